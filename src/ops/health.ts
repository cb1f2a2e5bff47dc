// Liveness and readiness for load balancers and orchestrators: /healthz answers
// while the process serves HTTP; /readyz only while it can stream (Redis ready,
// not shutting down), so traffic moves away before a node stops.
import { Router } from 'express';

import type { Readiness } from '../core/readiness.js';

export function healthRouter(readiness: () => Readiness): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'OK' });
  });
  router.get('/readyz', (_req, res) => {
    const r = readiness();
    res.setHeader('Cache-Control', 'no-store');
    if (r.ready) res.json({ status: 'OK' });
    else res.status(503).json({ status: 'UNAVAILABLE', reason: r.reason ?? 'not ready' });
  });
  return router;
}
