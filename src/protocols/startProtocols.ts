// The protocol modules `PROTOCOLS` names, each started on the shared parts with
// a router and a child logger of its own; together they answer readiness,
// status and shutdown for the server.
import { Router } from 'express';
import type { Express } from 'express';
import type { Config } from '../core/config.js';
import { StreamerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Readiness } from '../core/readiness.js';
import { protocolConfig } from './protocol.js';
import type { ProtocolContext, ProtocolHandle, ProtocolModule } from './protocol.js';

/** A protocol module chosen to start, with its own variables parsed. */
export interface SelectedProtocol {
  readonly module: ProtocolModule;
  readonly config: unknown;
}

/**
 * The names `PROTOCOLS` picks among those offered (all of them when it is
 * unset), in its order; a StreamerError for a name in it or in PUBLIC_PROTOCOLS
 * that is none of them.
 */
export function protocolNames(config: Config, offered: readonly string[]): readonly string[] {
  const known = new Set(offered);
  const unknown = config.publicProtocols.find((name) => !known.has(name));
  if (unknown !== undefined) {
    throw new StreamerError(
      'RXS_ERR_CONFIG',
      `PUBLIC_PROTOCOLS=${JSON.stringify(config.publicProtocols.join(','))} is not valid: "${unknown}" is none of ${offered.join(', ')}`,
      500,
    );
  }
  const names = config.protocols ?? offered;
  if (names.some((name) => !known.has(name))) {
    throw new StreamerError(
      'RXS_ERR_CONFIG',
      `PROTOCOLS=${JSON.stringify(config.protocols?.join(','))} is not valid: expected a comma-separated list of ${offered.join(', ')}`,
      500,
    );
  }
  return names;
}

/**
 * Each module with its own variables parsed from the environment; a
 * StreamerError for a bad one, or for a module that staging and production
 * would serve without authentication unless PUBLIC_PROTOCOLS names it.
 */
export function configureProtocols(
  config: Config,
  modules: readonly ProtocolModule[],
): SelectedProtocol[] {
  const guarded = config.nodeEnv === 'staging' || config.nodeEnv === 'production';
  return modules.map((module) => {
    const { name } = module;
    const own = protocolConfig(module, config.env);
    const open = guarded ? module.unauthenticated?.(own) : undefined;
    if (open !== undefined && !config.publicProtocols.includes(name)) {
      throw new StreamerError(
        'RXS_ERR_CONFIG',
        `${name} would serve anyone in ${config.nodeEnv}: ${open}; set that, or name it in PUBLIC_PROTOCOLS (PUBLIC_PROTOCOLS=${[...config.publicProtocols, name].join(',')}) to serve it without authentication`,
        500,
      );
    }
    return { module, config: own };
  });
}

/** The modules `PROTOCOLS` names, each with its configuration parsed; a StreamerError for a bad one. */
export function selectProtocols(
  config: Config,
  offered: readonly ProtocolModule[],
): SelectedProtocol[] {
  const byName = new Map(offered.map((m) => [m.name, m]));
  const names = protocolNames(config, [...byName.keys()]);
  return configureProtocols(
    config,
    names.flatMap((name) => byName.get(name) ?? []),
  );
}

export interface StartedProtocols {
  readonly handles: ReadonlyMap<string, ProtocolHandle>;
  /** Each protocol's readiness (absent: always ready). */
  readiness(): (Readiness | undefined)[];
  /** Their sections of the status document, by name. */
  status(): Record<string, Readonly<Record<string, unknown>>>;
  /** Closes them all; one that fails is logged and the others still close. */
  close(): Promise<void>;
}

/** Starts the selected modules, mounting each one's routes on `app` in order. */
export function startProtocols(
  selected: readonly SelectedProtocol[],
  shared: Omit<ProtocolContext, 'router' | 'logger'>,
  logger: Logger,
  app: Express,
): StartedProtocols {
  const handles = new Map<string, ProtocolHandle>();
  for (const { module, config } of selected) {
    const router = Router();
    handles.set(
      module.name,
      module.start({ ...shared, router, logger: logger.child({ protocol: module.name }) }, config),
    );
    app.use(router);
  }
  return {
    handles,
    readiness: () => [...handles.values()].map((p) => p.ready?.()),
    status: () =>
      Object.fromEntries([...handles].map(([name, handle]) => [name, handle.status?.() ?? {}])),
    close: async () => {
      await Promise.all(
        [...handles].map(async ([name, handle]) => {
          try {
            await handle.close?.();
          } catch (err) {
            logger.error('closing a protocol failed', { protocol: name, error: String(err) });
          }
        }),
      );
    },
  };
}
