import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { getLogLevel, log, setLogLevel, setLogSink, type LogLevel } from '../../src/index.js';

const LOGGER = path.resolve('src/runtime/logger.ts');
const LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/** Starts a fresh Node with `ORTLAB_LOG_LEVEL` set (or unset) and returns the level it reads. */
async function levelInChild(value: string | undefined, stderr: string[] = []): Promise<string> {
  const env = { ...process.env };
  if (value === undefined) delete env.ORTLAB_LOG_LEVEL;
  else env.ORTLAB_LOG_LEVEL = value;
  const script =
    `import(${JSON.stringify(LOGGER)})` + '.then((m) => process.stdout.write(m.getLogLevel()))';
  const run = await promisify(execFile)('node', ['--import', 'tsx', '-e', script], { env });
  stderr.push(run.stderr);
  return run.stdout;
}

describe('logger', () => {
  let lines: string[] = [];
  let before: LogLevel;
  beforeEach(() => {
    before = getLogLevel();
    lines = [];
    setLogSink((level, category, message) => lines.push(`${level} ${category}: ${message}`));
  });
  afterEach(() => {
    setLogSink(undefined);
    setLogLevel(before);
  });

  function emitAll(): void {
    for (const level of LEVELS) log[level]('test', `a ${level} message`);
  }

  it('setLogLevel then getLogLevel returns the level set, for every level and off', () => {
    for (const level of [...LEVELS, 'off'] as const) {
      setLogLevel(level);
      expect(getLogLevel()).to.equal(level);
    }
  });

  it('prints the messages at the level set and above, and none below it', () => {
    for (const [i, level] of LEVELS.entries()) {
      setLogLevel(level);
      lines = [];
      emitAll();
      expect(lines, level).to.deep.equal(LEVELS.slice(i).map((l) => `${l} test: a ${l} message`));
    }
  });

  it('off silences every level, fatal included', () => {
    setLogLevel('off');
    emitAll();
    expect(lines).to.deep.equal([]);
  });

  it('does not build a lazy message that is filtered out, and builds it once when printed', () => {
    setLogLevel('error');
    let built = 0;
    const message = (): string => {
      built += 1;
      return 'expensive';
    };
    log.verbose('lazy', message);
    log.info('lazy', message);
    log.warning('lazy', message);
    expect(built).to.equal(0);
    expect(lines).to.deep.equal([]);
    log.error('lazy', message);
    expect(built).to.equal(1);
    expect(lines).to.deep.equal(['error lazy: expensive']);
  });

  it('setLogSink(undefined) restores standard error, so the test sink gets nothing more', () => {
    setLogLevel('fatal');
    setLogSink(undefined);
    const original = console.error;
    const printed: unknown[][] = [];
    console.error = (...args: unknown[]) => printed.push(args);
    try {
      log.fatal('sink', 'to stderr');
    } finally {
      console.error = original;
    }
    expect(lines).to.deep.equal([]);
    expect(printed).to.deep.equal([['[ortlab fatal] sink: to stderr']]);
  });

  it('rejects an unknown level with a RangeError listing the valid ones; keeps the old', () => {
    setLogLevel('info');
    for (const bad of ['debug', 'WARNING', '', 3]) {
      expect(() => setLogLevel(bad as LogLevel), String(bad))
        .to.throw(RangeError)
        .with.property(
          'message',
          `log level '${String(bad)}' is not one of verbose, info, warning, error, fatal, off`,
        );
      expect(getLogLevel()).to.equal('info');
    }
  });

  describe('ORTLAB_LOG_LEVEL', () => {
    it('sets the level a fresh process starts with', async () => {
      expect(await levelInChild('verbose')).to.equal('verbose');
      expect(await levelInChild('off')).to.equal('off');
    });

    it('defaults to warning when the variable is unset', async () => {
      expect(await levelInChild(undefined)).to.equal('warning');
    });

    it('falls back to warning on a value that is not a level name, and says so', async () => {
      const stderr: string[] = [];
      expect(await levelInChild('loud', stderr)).to.equal('warning');
      expect(stderr.join('')).to.include("ORTLAB_LOG_LEVEL='loud' is not a level");
      const quiet: string[] = [];
      await levelInChild('error', quiet);
      expect(quiet.join('')).to.not.include('is not a level');
    });
  });
});
