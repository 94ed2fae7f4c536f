/**
 * Rasterizes incident pictures in a child process, started by warm() when a picture is foreseeable (an
 * incident opened, a diagnose began) or else by the first picture, and ended after a quiet minute (warm()
 * again, e.g. on every monitor tick while an incident is open, keeps it). Why warm: the child's start-up
 * (Node, then resvg) is most of a cold picture's time and CPU; warmed, the alert's picture pays only the render.
 * Why not in the bot: resvg-js 2.6 frees a pixmap only when V8 collects its wrapper (V8 is not told
 * its size), and the allocator keeps what resvg's threads used, so rendering in the bot left about 30 MiB
 * resident for good. The child's memory goes back to the system when it exits. A child that dies, hangs or
 * cannot start fails only the pictures it was making (PictureRenderError); the next one starts a new child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PICTURE_RENDERER } from '../constants.js';
import { pictureRenderOptions, RESVG_BINDING, RESVG_MODULE } from './picture-png.js';

/** Why a picture was not made: the child took too long, died or could not start, resvg refused the SVG, or the renderer is closed. */
export type PictureRenderFailure = 'timeout' | 'exited' | 'spawn' | 'render' | 'closed';

/** A picture the renderer could not make; `reason` says why, the message says it for a log line. */
export class PictureRenderError extends Error {
  constructor(
    message: string,
    readonly reason: PictureRenderFailure,
  ) {
    super(message);
    this.name = 'PictureRenderError';
  }
}

/** What the child says about itself with each picture (the benchmark reports it: the machine pays it too). */
export interface RenderStats {
  /** The child's process id. */
  pid: number;
  /** True when the child was not ready when the picture was asked for (its start-up, or part of it, is in the wall time). */
  cold: boolean;
  /** The child's CPU (user + system) since it started, ms. */
  childCpuMs: number;
  /** The child's peak RSS so far, KiB. */
  childMaxRssKib: number;
}

/** What the child says when it has started and loaded resvg (before any picture). */
export interface StartStats {
  pid: number;
  /** From spawn() to the child's ready message, ms. */
  wallMs: number;
  /** The child's CPU (user + system) to get ready, ms. */
  childCpuMs: number;
}

/**
 * The child's program: plain JavaScript run with `node -e`, so there is no TypeScript loader to start and
 * nothing to build or copy. argv: resvg's binding (RESVG_BINDING) or else its loader, the render options as
 * JSON (the binding's constructor takes them so; the loader's class takes an object). It talks over its stdin
 * and stdout with blocking reads and writes (fs.readSync/writeSync): no IPC channel, no streams, no
 * serializer, about 0.8 MiB less of the child's private memory than Node's IPC (bench/README.md, "Incident
 * picture memory", 2026-12-06). A request is a frame `[id u32][length u32][SVG, UTF-8]`; an answer `[id u32][info length u32]
 * [PNG length u32][info JSON][PNG]`, the info saying `{error}` when resvg refused the SVG, with the child's
 * CPU and peak RSS. The first answer (id 0) says `{ready}` once resvg is loaded. Between renders it returns
 * to the event loop once (setImmediate), so the finalizers of the picture's resvg objects run before it
 * waits: resvg-js 2.6 frees a pixmap only when V8 collects its wrapper, V8 does not know its size (hence
 * gc()), and Node runs a native module's finalizers on a later turn of the loop. It exits when its stdin
 * ends: the bot closed it, or went away.
 */
const CHILD_SOURCE = `'use strict';
// resvg's loader (when the binding itself is not named) asks process.report whether libc is glibc or musl;
// the network part of that report is slow.
process.report.excludeNetwork = true;
const fs = require('fs');
const { Resvg } = require(process.argv[1]);
const options = process.argv[1].endsWith('.node') ? process.argv[2] : JSON.parse(process.argv[2]);
const nap = new Int32Array(new SharedArrayBuffer(4));
function readFull(buf) {
  for (let off = 0; off < buf.length; ) {
    let n;
    try {
      n = fs.readSync(0, buf, off, buf.length - off, null);
    } catch (err) {
      // Only if stdin was left non-blocking: wait a little rather than spin.
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(nap, 0, 0, 5);
      continue;
    }
    if (n === 0) process.exit(0);
    off += n;
  }
}
function answer(id, info, png) {
  const c = process.cpuUsage();
  info.cpuMs = (c.user + c.system) / 1000;
  info.maxRssKib = process.resourceUsage().maxRSS;
  const json = Buffer.from(JSON.stringify(info));
  const head = Buffer.alloc(12);
  head.writeUInt32LE(id, 0);
  head.writeUInt32LE(json.length, 4);
  head.writeUInt32LE(png ? png.length : 0, 8);
  fs.writeSync(1, Buffer.concat(png ? [head, json, png] : [head, json]));
}
const head = Buffer.alloc(8);
function serve() {
  readFull(head);
  const id = head.readUInt32LE(0);
  const svg = Buffer.alloc(head.readUInt32LE(4));
  readFull(svg);
  let png;
  const info = {};
  try {
    png = new Resvg(svg, options).render().asPng();
  } catch (err) {
    info.error = String((err && err.message) || err);
  }
  answer(id, info, png);
  png = undefined;
  globalThis.gc();
  setImmediate(serve);
}
answer(0, { ready: true });
serve();
`;

interface Pending {
  child: ChildProcess;
  cold: boolean;
  timer: NodeJS.Timeout;
  resolve(png: Buffer): void;
  reject(err: Error): void;
}

interface ChildReply {
  /** Set on the one answer a child sends once resvg is loaded (id 0). */
  ready?: true;
  id: number;
  png?: Buffer;
  error?: string;
  cpuMs: number;
  maxRssKib: number;
}

/** Calls `onReply` with each answer frame the child writes to `out` (see CHILD_SOURCE for the frame). */
function readReplies(out: Readable, onReply: (m: ChildReply) => void): void {
  const chunks: Buffer[] = [];
  let have = 0;
  out.on('data', (d: Buffer) => {
    chunks.push(d);
    have += d.length;
    while (have >= 12) {
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      const infoLen = buf.readUInt32LE(4);
      const pngLen = buf.readUInt32LE(8);
      const size = 12 + infoLen + pngLen;
      chunks.length = 0;
      chunks.push(buf);
      if (have < size) return;
      const info = JSON.parse(buf.toString('utf8', 12, 12 + infoLen)) as Omit<ChildReply, 'id' | 'png'>;
      // A copy: the PNG outlives the chunk it came in, which may be much larger.
      const png = pngLen > 0 ? Buffer.from(buf.subarray(12 + infoLen, size)) : undefined;
      chunks[0] = buf.subarray(size);
      have -= size;
      if (have === 0) chunks.length = 0;
      onReply({ ...info, id: buf.readUInt32LE(0), ...(png ? { png } : {}) });
    }
  });
}

/** The request frame for `svg` (see CHILD_SOURCE). */
function requestFrame(id: number, svg: string): Buffer {
  const body = Buffer.from(svg, 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32LE(id, 0);
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** Options of a PictureRenderer; defaults from PICTURE_RENDERER in src/constants.ts. */
export interface PictureRendererOptions {
  /** The child exits after this long without a render (default 60 s). */
  idleExitMs?: number;
  /** A render not answered within this fails and the child is killed (default 10 s). */
  timeoutMs?: number;
}

export class PictureRenderer {
  private child?: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer?: NodeJS.Timeout;
  private stderrTail = '';
  private closed = false;
  /** The child's figures at the last picture it made (benchmarks). */
  lastStats?: RenderStats;
  /** The last child's start-up figures (benchmarks). */
  lastStart?: StartStats;
  /** Resolves when the running child is ready (undefined if it died first). */
  private ready?: Promise<StartStats | undefined>;
  private markReady?: (s: StartStats | undefined) => void;
  /** The running child once it has said it is ready. */
  private readyChild?: ChildProcess;

  constructor(private readonly opts: PictureRendererOptions = {}) {}

  /** Process id of the running child, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * A picture is foreseeable: start the child now if none runs (its start-up then happens before the picture
   * is asked for), and keep it at least the idle time from now. Cheap to call again (each monitor tick while
   * an incident is open). Resolves when the child is ready, undefined if it could not start (logged by the
   * render that then starts another).
   */
  warm(): Promise<StartStats | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    clearTimeout(this.idleTimer);
    let child: ChildProcess;
    try {
      child = this.child ?? this.start();
    } catch {
      return Promise.resolve(undefined);
    }
    this.scheduleIdleExit(child);
    return this.ready ?? Promise.resolve(undefined);
  }

  /** The PNG of `svg`, made in the child (started if none runs). */
  render(svg: string): Promise<Buffer> {
    if (this.closed) return Promise.reject(new PictureRenderError('the picture renderer is closed', 'closed'));
    clearTimeout(this.idleTimer);
    // Cold: this picture waits for (some of) the child's start-up.
    const cold = !this.child || this.readyChild !== this.child;
    let child: ChildProcess;
    try {
      child = this.child ?? this.start();
    } catch (err) {
      return Promise.reject(new PictureRenderError(`the picture renderer did not start: ${err instanceof Error ? err.message : String(err)}`, 'spawn'));
    }
    const id = this.nextId++;
    const timeoutMs = this.opts.timeoutMs ?? PICTURE_RENDERER.timeoutMs;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(child, new PictureRenderError(`no picture within ${timeoutMs} ms: the renderer was stopped`, 'timeout')), timeoutMs);
      this.pending.set(id, { child, cold, timer, resolve, reject });
      child.stdin?.write(requestFrame(id, svg), (err) => {
        if (err) this.fail(child, new PictureRenderError(`the picture renderer did not take the SVG: ${err.message}`, 'exited'));
      });
    });
  }

  /** Stop the child (pending pictures fail) and refuse further renders. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    this.fail(child, new PictureRenderError('the picture renderer is closed', 'closed'));
    await exited;
  }

  private start(): ChildProcess {
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${PICTURE_RENDERER.maxOldSpaceMb}`, '--expose-gc', '-e', CHILD_SOURCE, RESVG_BINDING ?? RESVG_MODULE, JSON.stringify(pictureRenderOptions())],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        // None of the bot's environment: no token reaches the child, and no NODE_EXTRA_CA_CERTS (Node reads that
        // bundle at start, about 100 ms here; the child opens no connection).
        env: {},
      },
    );
    this.child = child;
    this.stderrTail = '';
    const spawnedAt = performance.now();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    // A child warmed that never says it is ready (hung loading resvg) is killed like a render that never answers
    // (a picture waiting for it has its own deadline, which says so).
    const timeoutMs = this.opts.timeoutMs ?? PICTURE_RENDERER.timeoutMs;
    const startTimer = setTimeout(() => {
      if (this.readyChild === child || [...this.pending.values()].some((p) => p.child === child)) return;
      this.fail(child, new PictureRenderError(`the picture renderer was not ready within ${timeoutMs} ms`, 'timeout'));
    }, timeoutMs);
    startTimer.unref();
    child.once('exit', () => clearTimeout(startTimer));
    const readyOf = (m: ChildReply): void => {
      if (!m.ready || this.child !== child) return;
      clearTimeout(startTimer);
      this.readyChild = child;
      this.lastStart = { pid: child.pid ?? 0, wallMs: performance.now() - spawnedAt, childCpuMs: m.cpuMs };
      this.markReady?.(this.lastStart);
      // Its idle time counts from now: a slow start-up (a loaded machine) must not use it up.
      this.scheduleIdleExit(child);
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-PICTURE_RENDERER.stderrTailChars);
    });
    if (child.stdout) readReplies(child.stdout, (m) => (m.ready ? readyOf(m) : this.answer(child, m)));
    // A child that died has its pictures failed by 'exit'; a write to its closed stdin must not throw here.
    child.stdin?.on('error', () => undefined);
    child.on('error', (err) => this.fail(child, new PictureRenderError(`the picture renderer failed: ${err.message}`, 'spawn')));
    child.on('exit', (code, signal) => {
      const why = signal ? `signal ${signal}` : `code ${code}`;
      const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      this.drop(child, new PictureRenderError(`the picture renderer exited (${why})${tail ? `: ${tail}` : ''}`, 'exited'));
    });
    // A render in progress keeps the bot's process alive through its timer; an idle child must not.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  private answer(child: ChildProcess, m: ChildReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    this.lastStats = { pid: child.pid ?? 0, cold: p.cold, childCpuMs: m.cpuMs, childMaxRssKib: m.maxRssKib };
    if (m.error !== undefined || !m.png) p.reject(new PictureRenderError(`resvg did not render the picture: ${m.error ?? 'no PNG'}`, 'render'));
    else p.resolve(m.png);
    this.scheduleIdleExit(child);
  }

  /** After the last answer (or warm(), or its start-up), a quiet child is told to go (it exits when its stdin ends). */
  private scheduleIdleExit(child: ChildProcess): void {
    // Not yet ready: scheduled when it is. Busy: scheduled after its last answer.
    if (this.child !== child || this.readyChild !== child || [...this.pending.values()].some((p) => p.child === child)) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.child === child && ![...this.pending.values()].some((p) => p.child === child)) {
        this.forget(child);
        child.stdin?.end();
      }
    }, this.opts.idleExitMs ?? PICTURE_RENDERER.idleExitMs);
    this.idleTimer.unref();
  }

  /** `child` is no longer the one to use (it exits, or has): the next picture or warm() starts another. */
  private forget(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.readyChild = undefined;
    this.markReady?.(undefined);
    this.ready = this.markReady = undefined;
  }

  /** Kill `child` and fail what it was making; the next render starts a new child. */
  private fail(child: ChildProcess, err: PictureRenderError): void {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.drop(child, err);
  }

  /** Forget `child` and reject its pending pictures with `err`. */
  private drop(child: ChildProcess, err: PictureRenderError): void {
    this.forget(child);
    for (const [id, p] of this.pending) {
      if (p.child !== child) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
