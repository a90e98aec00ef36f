/**
 * A loopback origin where every connection is refused at once, on Node and on Bun. Binding a port
 * below 1024 takes privileges and tests only ever bind port 0, so no test's server can take it
 * meanwhile (a port found free and closed again can be handed to another server, which then holds
 * or answers the connection instead of refusing it). Port 2, not 1: fetch (undici) refuses the
 * ports of the Fetch standard's "bad port" list, port 1 among them, without connecting.
 */
export const REFUSING_PORT = 2;
export const REFUSING_URL = `http://127.0.0.1:${REFUSING_PORT}`;
