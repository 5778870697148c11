// A logger for a test that wants to read what was logged: every line, parsed, pushed onto `lines`.
import pino, { type Logger } from 'pino';

export function logInto<L>(lines: L[], level: string): Logger {
  return pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as L) });
}
