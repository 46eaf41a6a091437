import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FailmodeError } from '../errors.ts';

/**
 * Start an HTTP server of failmode's (serve, feed gateway) the one way both need: malformed requests get a bare 400
 * and the socket is closed, a taken port is one FailmodeError naming the flag. Resolves with the bound port and the
 * base URL (IPv6 hosts in brackets).
 */
export async function listenHttp(server: Server, host: string, port: number): Promise<{ port: number; url: string }> {
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
      ? new FailmodeError(`Port ${port} on ${host} is already in use (choose another with --port)`, 'FAILMODE_ERR_LISTEN', 1)
      : err));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return { port: bound, url: `http://${hostInUrl}:${bound}` };
}
