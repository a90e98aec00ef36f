import type { AddressInfo, Server } from 'node:net';

/** Starts a server listening; resolves with the port it got (port 0: one the OS chose), rejects when it cannot listen. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
