// Line sources for the importers: files (gzip detected by its magic bytes, streamed, never read whole)
// and in-memory text. A source can be opened more than once: importers make two passes.
import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import * as zlib from 'node:zlib';
import { EngineError } from '../errors';

/** What one pass over a source yields: lines without their '\n' (a trailing '\r' is dropped too). */
export interface LineSource {
  /** Shown in reports and errors (the path for files). */
  readonly name: string;
  /**
   * Iterates the lines. A truncated gzip stream ends the iteration with a `TruncatedInput` error
   * after every complete line before the damage; the incomplete last line is not yielded.
   */
  lines(): AsyncIterable<string>;
}

/** Thrown by a source whose compressed data ends early (the lines before it were delivered). */
export class TruncatedInput extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TruncatedInput';
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** True when the file starts with the gzip magic bytes 1f 8b (the extension is not trusted). */
export function isGzipFile(path: string): boolean {
  const fd = fs.openSync(path, 'r');
  try {
    const head = new Uint8Array(2);
    const n = fs.readSync(fd, head, 0, 2, 0);
    return n === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    fs.closeSync(fd);
  }
}

/** A file on disk, plain or gzip. Throws E_FILE_NOT_FOUND now rather than in the middle of a pass. */
export function fileSource(path: string): LineSource {
  if (!fs.existsSync(path) || !fs.statSync(path).isFile()) {
    throw new EngineError('E_FILE_NOT_FOUND', `no such input file: ${path}`, { file: path });
  }
  const gzip = isGzipFile(path);
  return {
    name: path,
    lines: () => {
      const raw = fs.createReadStream(path, { highWaterMark: 1 << 20 });
      if (!gzip) return splitLines(raw, false);
      // Default finish flush: a truncated stream hands over what it could decompress, then fails with
      // 'unexpected end of file' (Z_SYNC_FLUSH would end silently and hide the damage).
      const gunzip = zlib.createGunzip();
      raw.on('error', (err) => gunzip.destroy(err));
      return splitLines(raw.pipe(gunzip), true);
    },
  };
}

/** In-memory text (tests, stdin captures): a string split on '\n', or an array of lines. */
export function textSource(name: string, text: string | readonly string[]): LineSource {
  const all = typeof text === 'string' ? text.split('\n') : text;
  // A final '' after the last '\n' is not a line.
  const lines = typeof text === 'string' && all.length > 0 && all[all.length - 1] === '' ? all.slice(0, -1) : all;
  return {
    name,
    lines: async function* () {
      for (const l of lines) yield l.endsWith('\r') ? l.slice(0, -1) : l;
    },
  };
}

/** gzip-compressed bytes held in memory (tests of the gzip path without files). */
export function gzipBufferSource(name: string, bytes: Uint8Array): LineSource {
  return {
    name,
    lines: () => {
      const gunzip = zlib.createGunzip();
      gunzip.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return splitLines(gunzip, true);
    },
  };
}

async function* splitLines(stream: NodeJS.ReadableStream, compressed: boolean): AsyncGenerator<string> {
  let rest = '';
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = rest + decoder.write(chunk);
      let start = 0;
      let nl: number;
      while ((nl = text.indexOf('\n', start)) !== -1) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        yield text.slice(start, end);
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (compressed && (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || /unexpected end/i.test(String(err)))) {
      // `rest` is the cut-off line: not yielded, it would only add a second, misleading error.
      throw new TruncatedInput(`truncated or corrupt gzip data (${(err as Error).message})`);
    }
    throw err;
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
