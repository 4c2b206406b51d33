import { pino } from "pino";

/**
 * pino JSON logs, one line per event. Fields that recur: `lsn`, `group`,
 * `node`, `epoch`. Level from SEDIMENT_LOG_LEVEL (default info).
 */
export type Logger = pino.Logger;

export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ name, level: process.env.SEDIMENT_LOG_LEVEL ?? "info", base: { pid: process.pid, ...bindings } });
}
