/**
 * SVG → PNG for the incident picture with resvg (Rust, prebuilt per platform through optional packages: no
 * browser, no native build). The bot rasterizes in a child process (picture-renderer.ts) with the options
 * below; `svgToPng` renders in the calling process (tests, and the benchmark's in-process comparison) and
 * loads resvg only when first called, so importing this module for its constants costs nothing. The font
 * (Roboto Regular) ships with the @expo-google-fonts/roboto package (slim container images have no system
 * fonts); system fonts are never scanned (slow, and different per machine). Roboto rather than DejaVu Sans:
 * resvg shaped each label of the picture about 4× faster with it (DejaVu's large layout tables are parsed
 * per text run).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PICTURE_FONT_FAMILY } from './incident-picture.js';

const require = createRequire(import.meta.url);
/** The one font file the picture uses. */
export const PICTURE_FONT_FILE = require.resolve('@expo-google-fonts/roboto/400Regular/Roboto_400Regular.ttf');
/** Where resvg's module is (its loader, which picks the prebuilt binding for the platform). */
export const RESVG_MODULE = require.resolve('@resvg/resvg-js');
/**
 * resvg's prebuilt binding for this platform, the `.node` file its loader would pick, found without loading
 * it; undefined when none or more than one is installed for this platform and architecture (glibc and musl
 * both, say): the child then goes through resvg's loader, which asks process.report whether libc is glibc or
 * musl. The child loads this file directly: no report, so its start-up takes about 23 ms CPU instead of 30
 * and 62 ms wall instead of 100 (load 10; bench/README.md, "Incident picture memory", 2026-12-06).
 */
export const RESVG_BINDING = findResvgBinding();

function findResvgBinding(): string | undefined {
  const fromResvg = createRequire(RESVG_MODULE);
  const names = ['', '-gnu', '-musl', '-msvc', '-gnueabihf', '-eabi'].map((abi) => `${process.platform}-${process.arch}${abi}`);
  if (process.platform === 'darwin') names.push('darwin-universal');
  const found = new Set<string>();
  for (const name of names) {
    // The loader prefers a binding next to itself, then the optional package of that name.
    const local = path.join(path.dirname(RESVG_MODULE), `resvgjs.${name}.node`);
    if (existsSync(local)) found.add(local);
    try {
      found.add(fromResvg.resolve(`@resvg/resvg-js-${name}`));
    } catch {
      // not installed here
    }
  }
  const [only] = found;
  return found.size === 1 && only!.endsWith('.node') ? only : undefined;
}
/** A picture larger than this is not sent (Telegram takes 10 MB photos; ours are about 30 KB). */
export const PICTURE_MAX_BYTES = 512 * 1024;

/** PNG file signature (first 8 bytes of every PNG). */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** resvg's options for the picture: its own size, white background, only the shipped font. */
export function pictureRenderOptions() {
  return {
    font: { loadSystemFonts: false, fontFiles: [PICTURE_FONT_FILE], defaultFontFamily: PICTURE_FONT_FAMILY, sansSerifFamily: PICTURE_FONT_FAMILY },
    fitTo: { mode: 'original' as const },
    background: '#ffffff',
    logLevel: 'off' as const,
  };
}

/** Rasterize `svg` in this process, on libuv's thread pool (not what the bot does: see picture-renderer.ts). */
export async function svgToPng(svg: string): Promise<Buffer> {
  const { renderAsync } = await import('@resvg/resvg-js');
  const image = await renderAsync(svg, pictureRenderOptions());
  return image.asPng();
}

/** Width and height from a PNG's IHDR chunk (undefined when `png` is not a PNG). */
export function pngSize(png: Uint8Array): { width: number; height: number } | undefined {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 24 || !b.subarray(0, 8).equals(PNG_SIGNATURE) || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
