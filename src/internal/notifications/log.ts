/** The logger methods this module uses; a pino Logger fits. */
export interface NotificationLog {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
