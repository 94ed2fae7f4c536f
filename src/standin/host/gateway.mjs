// The stand-in gateway's real listener: a process named like the real one (`openclaw-gatewa` in
// /proc/<pid>/comm, as 2026.9.6 sets its title), listening on the stand-in's port while the stand-in
// gateway runs, answering GET /healthz with the real 2026.9.6 body. So the light probe's /proc reads,
// its /dev/tcp GET and the real ss / curl all see a real socket with a real owner.
// Faults ($S/healthz_mode, read at every request): `hang` = accepts and never answers; `404`;
// `wedged` = sends a status line at once, then one header line a second forever (only a total deadline ends it).
// Usage: node gateway.mjs <port> <state dir> <fixtures dir>
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const [portText, stateDir, fixturesDir] = process.argv.slice(2);
process.title = 'openclaw-gateway';
const healthBody = readFileSync(path.join(fixturesDir, 'healthz-up.json'), 'utf8').replace(/\n/g, '');
const controlPage = '<!doctype html><html><head><title>OpenClaw Control</title></head><body></body></html>';

function mode() {
  try {
    return readFileSync(path.join(stateDir, 'healthz_mode'), 'utf8').trim();
  } catch {
    return '';
  }
}

function answer(sock, code, reason, type, body) {
  sock.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const server = net.createServer((sock) => {
  sock.on('error', () => {});
  let head = '';
  const onData = (d) => {
    head += d.toString('latin1');
    if (!head.includes('\r\n\r\n') && head.length < 8192) return;
    sock.off('data', onData);
    const m = mode();
    if (m === 'hang') return;
    if (m === 'wedged') {
      sock.write('HTTP/1.1 200 OK\r\n');
      const t = setInterval(() => sock.write('X-Still-Thinking: 1\r\n'), 1000);
      sock.on('close', () => clearInterval(t));
      return;
    }
    if (m === '404') return answer(sock, 404, 'Not Found', 'text/plain', 'Not Found');
    const url = /^GET (\S+)/.exec(head)?.[1] ?? '/';
    if (url === '/healthz' || url === '/health') return answer(sock, 200, 'OK', 'application/json; charset=utf-8', healthBody);
    return answer(sock, 200, 'OK', 'text/html; charset=utf-8', controlPage);
  };
  sock.on('data', onData);
});
server.listen(Number(portText), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
