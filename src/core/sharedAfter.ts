// One run of an asynchronous task shared by every call made while the run
// before it was on its way: each call's result comes from a run that started
// after the call (so it sees what happened before it), and a burst of calls
// costs two runs, not one each.

/** Wraps `run`: a call starts it at once when none is on its way, or joins the next. */
export function sharedAfter(run: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const started = run().finally(() => {
      if (current === started) current = undefined;
    });
    current = started;
    return started;
  };
  return () => {
    if (!current) return start();
    // The run on its way started before this call: the next one serves it.
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}
