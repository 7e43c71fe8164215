/** Writes one structured log line (JSON) per AWS call and per decision. Never pass credentials or policy bodies. */
export type Log = (event: string, fields?: Record<string, unknown>) => void;

/** The log the Lambda uses: one JSON object per line on stdout, which CloudWatch Logs keeps as is. */
export const jsonLog: Log = (event, fields) => {
  console.log(JSON.stringify({ event, ...fields }));
};
