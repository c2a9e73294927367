// Errors defined once: every error the engine raises is an EngineError with a stable `code`.
// Native status codes map to codes in NATIVE_STATUS below, the only such table.

export type ErrorCode =
  | 'E_NATIVE_LOAD'
  | 'E_INVALID_ARG'
  | 'E_FILE_NOT_FOUND'
  | 'E_BAD_FORMAT'
  | 'E_BAD_CHECKSUM'
  | 'E_TRUNCATED'
  | 'E_BAD_INPUT'
  | 'E_UNKNOWN_SYMBOL'
  | 'E_SEQUENCE_GAP'
  | 'E_CROSSED_BOOK'
  | 'E_UNKNOWN_ORDER'
  | 'E_STRICT_ABORT'
  | 'E_CONFIG'
  | 'E_MODEL'
  | 'E_RISK'
  | 'E_TIMEOUT'
  | 'E_INTERNAL';

export class EngineError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is, when known: file, line (1-based) or byte offset. */
  readonly where?: { file?: string; line?: number; offset?: number };

  constructor(code: ErrorCode, message: string, where?: { file?: string; line?: number; offset?: number }) {
    super(where ? `${message} (${formatWhere(where)})` : message);
    this.name = 'EngineError';
    this.code = code;
    this.where = where;
  }
}

function formatWhere(w: { file?: string; line?: number; offset?: number }): string {
  const parts: string[] = [];
  if (w.file) parts.push(w.file);
  if (w.line !== undefined) parts.push(`line ${w.line}`);
  if (w.offset !== undefined) parts.push(`byte ${w.offset}`);
  return parts.join(', ');
}

/** Native status codes (native/core/status.h) to error codes. 0 is success. */
export const NATIVE_STATUS: Record<number, ErrorCode> = {
  1: 'E_INVALID_ARG',
  2: 'E_BAD_FORMAT',
  3: 'E_BAD_CHECKSUM',
  4: 'E_TRUNCATED',
  5: 'E_UNKNOWN_ORDER',
  6: 'E_CROSSED_BOOK',
  7: 'E_SEQUENCE_GAP',
  8: 'E_INTERNAL',
};

export function fromNativeStatus(status: number, message: string, where?: EngineError['where']): EngineError {
  return new EngineError(NATIVE_STATUS[status] ?? 'E_INTERNAL', `${message} (native status ${status})`, where);
}

/** "expected X for Y, got Z": the one shape of argument errors. */
export function expected(what: string, forWhat: string, got: unknown): EngineError {
  let shown: string;
  try {
    shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  } catch {
    shown = typeof got;
  }
  return new EngineError('E_INVALID_ARG', `expected ${what} for ${forWhat}, got ${shown}`);
}
