/** V8's Error (this file is shared with the web page and the SDK builds, which have no Node types). */
const v8Error = Error as ErrorConstructor & { stackTraceLimit: number };

/**
 * An error that is an answer, not a bug — a refusal the server renders as a problem, or the SDK's
 * copy of that problem — so it captures no stack trace. Nothing reads one (the server logs only
 * other errors; on the client it would name the response callback, never the caller), and under
 * contention most holds end in a refusal: a stack per refusal was ~5% of a server worker's CPU in
 * hot-seats and ~10% of a load worker's. (Where the engine has no stackTraceLimit, setting it is
 * harmless.)
 */
export class AnswerError extends Error {
  constructor(message: string) {
    const limit = v8Error.stackTraceLimit;
    v8Error.stackTraceLimit = 0;
    super(message);
    v8Error.stackTraceLimit = limit;
  }
}
