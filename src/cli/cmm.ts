#!/usr/bin/env node
// `cmm` command-line entry: dispatches to one module per command in src/cli/commands/. Each module
// exports `run(argv: string[]): Promise<number>` (the exit code) and `usage: string`.
import { EngineError } from '../errors';

const COMMANDS: Record<string, string> = {
  import: './commands/import',
  replay: './commands/replay',
  'verify-lobster': './commands/verify-lobster',
  generate: './commands/generate',
  backtest: './commands/backtest',
  dataset: './commands/dataset',
  teacher: './commands/teacher',
  probe: './commands/probe',
  distill: './commands/distill',
  experiment: './commands/experiment',
  demo: './commands/demo',
};

interface CommandModule {
  run(argv: string[]): Promise<number>;
  usage: string;
}

function load(name: string): CommandModule | undefined {
  const mod = COMMANDS[name];
  if (!mod) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(mod) as CommandModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String(err).includes(mod.slice(2))) return undefined;
    throw err;
  }
}

function help(): string {
  const lines = ['usage: cmm <command> [options]', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const m = load(name);
    if (m) lines.push(`  ${m.usage.split('\n')[0]}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const cmd = load(name);
  if (!cmd) {
    console.error(`cmm: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof EngineError) {
      console.error(`cmm ${name}: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

/**
 * Exits once stdout and stderr have drained: a write to a full pipe is queued, and exiting at once would
 * cut a long --json line short for a reader such as `| tail -1`.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (require.main === module) {
  main(process.argv.slice(2)).then(exitWhenFlushed, (err) => {
    console.error(err instanceof Error ? err.stack : err);
    exitWhenFlushed(1);
  });
}
