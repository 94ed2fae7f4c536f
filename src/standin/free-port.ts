/**
 * A TCP port free on 127.0.0.1 right now (the kernel picks it): every test server that needs a
 * port of its own (sshd, redis-server, stand-ins, real gateways) takes it from here.
 */
import net from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
