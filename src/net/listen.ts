import type { AddressInfo, ListenOptions, Server } from 'node:net';

/**
 * Starts a server listening; resolves with the port it got (port 0: one the OS chose), rejects
 * when it cannot listen. With `reusePort`, each process binds the port itself (SO_REUSEPORT).
 */
export function listen(server: Server, port: number, host: string, reusePort = false): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    };
    if (reusePort) server.listen({ port, host, reusePort: true } as ListenOptions, onListening);
    else server.listen(port, host, onListening);
  });
}
