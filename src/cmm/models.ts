// Model folders: a manifest.json listing every file with its sha256, verified before anything is loaded.
// A missing manifest or file, or a checksum mismatch, is one clear EngineError('E_MODEL').
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';

export const MANIFEST_NAME = 'manifest.json';

export interface ManifestFile {
  /** Relative to the manifest's folder. */
  path: string;
  sha256: string;
  bytes: number;
  role?: string;
}

/** The fields every model manifest has; each model kind adds its own. */
export interface ModelManifestBase {
  format: string;
  version: number;
  files: ManifestFile[];
}

export function sha256Bytes(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** A file's bytes as a plain Uint8Array view (no copy). */
export function readBytes(file: string): Uint8Array {
  const b = fs.readFileSync(file);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function sha256File(file: string): string {
  return sha256Bytes(readBytes(file));
}

/** A ManifestFile entry for a file already written in `dir`. */
export function describeFile(dir: string, rel: string, role?: string): ManifestFile {
  const bytes = readBytes(path.join(dir, rel));
  return { path: rel, sha256: sha256Bytes(bytes), bytes: bytes.length, ...(role ? { role } : {}) };
}

/** Reads `dir/manifest.json` without verifying files. */
export function readManifest<M extends ModelManifestBase>(dir: string, format?: string): M {
  const file = path.join(dir, MANIFEST_NAME);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new EngineError('E_MODEL', `model manifest missing: ${file} (train or copy the model folder first)`, { file });
  }
  let m: M;
  try {
    m = JSON.parse(text) as M;
  } catch (err) {
    throw new EngineError('E_MODEL', `model manifest is not valid JSON: ${(err as Error).message}`, { file });
  }
  if (!m || typeof m !== 'object' || !Array.isArray(m.files)) throw new EngineError('E_MODEL', 'model manifest has no "files" list', { file });
  if (format !== undefined && m.format !== format) {
    throw new EngineError('E_MODEL', `expected a "${format}" manifest, got "${String(m.format)}"`, { file });
  }
  return m;
}

/** Checks every listed file exists with its recorded size and sha256; throws E_MODEL naming the first bad one. */
export function verifyManifestFiles(dir: string, manifest: ModelManifestBase): void {
  for (const f of manifest.files) {
    const file = path.join(dir, f.path);
    if (path.isAbsolute(f.path) || f.path.split(/[\\/]/).includes('..')) {
      throw new EngineError('E_MODEL', `manifest file path must stay inside the model folder, got ${f.path}`, { file: path.join(dir, MANIFEST_NAME) });
    }
    let bytes: Uint8Array;
    try {
      bytes = readBytes(file);
    } catch {
      throw new EngineError('E_MODEL', `model file missing: ${f.path} (listed in ${MANIFEST_NAME})`, { file });
    }
    const sha = sha256Bytes(bytes);
    if (bytes.length !== f.bytes || sha !== f.sha256) {
      throw new EngineError('E_MODEL', `model file checksum mismatch: ${f.path} has sha256 ${sha} (${bytes.length} bytes), manifest says ${f.sha256} (${f.bytes} bytes)`, { file });
    }
  }
}

/** Reads and verifies a model folder's manifest. */
export function loadManifest<M extends ModelManifestBase>(dir: string, format?: string): M {
  const m = readManifest<M>(dir, format);
  verifyManifestFiles(dir, m);
  return m;
}

/** Path of the file with `role` in a manifest; E_MODEL when none. */
export function fileWithRole(dir: string, manifest: ModelManifestBase, role: string): string {
  const f = manifest.files.find((x) => x.role === role);
  if (!f) throw new EngineError('E_MODEL', `model manifest lists no file with role "${role}"`, { file: path.join(dir, MANIFEST_NAME) });
  return path.join(dir, f.path);
}

/** Writes manifest.json (pretty, stable key order as given). */
export function writeManifest(dir: string, manifest: ModelManifestBase): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, MANIFEST_NAME);
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  return file;
}
