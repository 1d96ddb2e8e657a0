/**
 * ortlab's one logging module. Every message of the library goes through here, so a user
 * controls all of it with one option or one environment variable.
 *
 * Levels, from most to least verbose: `verbose`, `info`, `warning`, `error`, `fatal`; `off`
 * silences everything. The default is `warning`; `ORTLAB_LOG_LEVEL` overrides it at start-up.
 * Messages may be given as functions so that they are only built when they will be printed.
 *
 * @example
 * ```ts
 * import { setLogLevel, log } from 'ortlab';
 * setLogLevel('info');
 * log.info('session', () => `created in ${ms} ms`);
 * ```
 */

export type LogLevel = 'verbose' | 'info' | 'warning' | 'error' | 'fatal' | 'off';

/** A destination for log lines; the default writes to standard error. */
export type LogSink = (level: Exclude<LogLevel, 'off'>, category: string, message: string) => void;

const ORDER: Readonly<Record<LogLevel, number>> = Object.freeze({
  verbose: 0,
  info: 1,
  warning: 2,
  error: 3,
  fatal: 4,
  off: 5,
});

function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ORDER, value);
}

function levelFromEnvironment(): LogLevel {
  const fromEnv = typeof process !== 'undefined' ? process.env?.ORTLAB_LOG_LEVEL : undefined;
  if (fromEnv === undefined || fromEnv === '' || isLogLevel(fromEnv)) return fromEnv || 'warning';
  // A typo should not silently change what is shown; say so once and keep the default.
  // eslint-disable-next-line no-console
  console.error(
    `[ortlab warning] logger: ORTLAB_LOG_LEVEL='${fromEnv}' is not a level ` +
      `(${Object.keys(ORDER).join(', ')}); using 'warning'`,
  );
  return 'warning';
}

const defaultSink: LogSink = (level, category, message) => {
  // The one place where ortlab writes to the console on its own.
  // eslint-disable-next-line no-console
  console.error(`[ortlab ${level}] ${category}: ${message}`);
};

let currentLevel: LogLevel = levelFromEnvironment();
let currentSink: LogSink = defaultSink;

/**
 * Sets the minimum level that is printed.
 * @throws RangeError when `level` is not one of the levels above.
 */
export function setLogLevel(level: LogLevel): void {
  if (!isLogLevel(level)) {
    throw new RangeError(
      `log level '${String(level)}' is not one of ${Object.keys(ORDER).join(', ')}`,
    );
  }
  currentLevel = level;
}

/** The level in force now. */
export function getLogLevel(): LogLevel {
  return currentLevel;
}

/** Sends log lines somewhere else (a file, a test's array); `undefined` restores standard error. */
export function setLogSink(sink: LogSink | undefined): void {
  currentSink = sink ?? defaultSink;
}

function emit(
  level: Exclude<LogLevel, 'off'>,
  category: string,
  message: string | (() => string),
): void {
  if (ORDER[level] < ORDER[currentLevel]) return;
  currentSink(level, category, typeof message === 'function' ? message() : message);
}

/** Logging functions by level; `category` names the part of ortlab that speaks. */
export const log = Object.freeze({
  verbose: (category: string, message: string | (() => string)) =>
    emit('verbose', category, message),
  info: (category: string, message: string | (() => string)) => emit('info', category, message),
  warning: (category: string, message: string | (() => string)) =>
    emit('warning', category, message),
  error: (category: string, message: string | (() => string)) => emit('error', category, message),
  fatal: (category: string, message: string | (() => string)) => emit('fatal', category, message),
});
