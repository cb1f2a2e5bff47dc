// Why the server could not listen, in one line that names the variable to
// change (PORT or HOST), like a bad variable's own message; the process prints
// it and exits instead of dying on a stack trace.

export interface ListenTarget {
  readonly port: number;
  readonly host?: string | undefined;
}

/** The one-line explanation of what `listen()` failed with; undefined for what is not a system error. */
export function listenProblem(err: unknown, target: ListenTarget): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (!(err instanceof Error) || typeof code !== 'string') return undefined;
  const port = `PORT=${target.port}`;
  const host = target.host === undefined ? undefined : `HOST=${JSON.stringify(target.host)}`;
  const where = host ? `${host}, ${port}` : port;
  switch (code) {
    case 'EADDRINUSE':
      return `${port} is already in use${host ? ` on ${host}` : ''} (EADDRINUSE): stop what listens there, or set PORT to a free port (0 picks one)`;
    case 'EACCES':
      return `${port} needs privileges to listen on (EACCES): set PORT to 1024 or above, or put a proxy in front`;
    case 'EADDRNOTAVAIL':
      return `${host ?? 'HOST'} is not an address of this machine (EADDRNOTAVAIL): set HOST to one of its addresses, or 0.0.0.0 for all of them`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `${host ?? 'HOST'} does not resolve to an address (${code}): set HOST to an IP address or a name this machine resolves`;
    case 'EINVAL':
    case 'EAFNOSUPPORT':
      return `${host ?? 'HOST'} cannot be listened on (${code}): set HOST to an address of this machine, or 0.0.0.0 for all of them`;
    default:
      return `cannot listen on ${where} (${code}): ${err.message}`;
  }
}
