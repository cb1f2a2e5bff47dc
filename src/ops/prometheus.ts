// GET /metrics: the metrics registry in the Prometheus text format, for a
// Prometheus server to scrape.
import { Router } from 'express';
import type { MetricsRegistry } from '../core/metrics.js';

export function prometheusRouter(registry: MetricsRegistry): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const body = await registry.prometheus();
    res.setHeader('Content-Type', registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(body);
  });
  return router;
}
