// Minimal leveled logger: one line per event, "[deskcast:<scope>] message".
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: number = order.info;

export function setLogLevel(level: LogLevel): void {
  threshold = order[level];
}

/** Whether messages of `level` are shown now (e.g. stack traces only with --log-level debug). */
export function logLevelShows(level: LogLevel): boolean {
  return threshold <= order[level];
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(scope: string): Logger {
  const emit = (level: LogLevel, message: string): void => {
    if (order[level] < threshold) return;
    const line = `[deskcast:${scope}] ${level === 'info' ? '' : `${level.toUpperCase()}: `}${message}`;
    (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}
