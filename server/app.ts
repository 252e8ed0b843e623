import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { DEFAULT_SESSION_TTL_MS, type AppDeps } from './app-deps.ts';
import type { AppEnv } from './app-env.ts';
import { errorHandler, notFoundHandler, validationHook } from './errors/error-handler.ts';
import { bodyLimit } from './middleware/body-limit/index.ts';
import { csrf } from './middleware/csrf/index.ts';
import { loginRateLimit } from './middleware/login-rate-limit/index.ts';
import { requestId } from './middleware/request-id/index.ts';
import { requestLog } from './middleware/request-log/index.ts';
import { session } from './middleware/session/index.ts';
import { registerAuditRoutes } from './routes/audit.route.ts';
import { registerApprovalRoutes } from './routes/approval.route.ts';
import { registerAuthRoutes } from './routes/auth.route.ts';
import { registerBudgetRoutes } from './routes/budget.route.ts';
import { registerCatalogRoutes } from './routes/catalog.route.ts';
import { registerDisclosurePreviewRoutes } from './routes/disclosure-preview.route.ts';
import { registerDocsRoutes } from './routes/docs.route.ts';
import { registerFollowUpRoutes } from './routes/follow-up.route.ts';
import { registerHealthRoutes } from './routes/health.route.ts';
import { registerExportRoutes } from './routes/export.route.ts';
import { registerHomeRoutes } from './routes/home.route.ts';
import { registerJobListRoutes } from './routes/job-list.route.ts';
import { registerOperatorRoutes } from './routes/operator.route.ts';
import { registerPipelineRoutes } from './routes/pipeline.route.ts';
import { PHOTO_BODY_LIMIT, registerPhotoRoutes } from './routes/photo.route.ts';
import { registerOpsRoutes } from './routes/ops.route.ts';
import { registerPolicyRoutes } from './routes/policy.route.ts';
import { primeAuth } from './services/auth.service.ts';
import { createLabMetrics } from './metrics/lab-metrics.ts';
import { draining } from './middleware/draining/index.ts';

/**
 * The HTTP app. No listening here: `server/lab/start.ts` serves it, tests call `app.request()`.
 *
 * Order matters: request id (and its logger) first so every later line carries it; the access
 * log wraps everything below it; security headers on every response, errors included; the body
 * limit before anything reads a body; the session before CSRF (which needs the session's token)
 * and before the routes (which read `c.var.user`).
 */
export function buildApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const ttlMs = deps.config.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const metrics = deps.metrics ?? createLabMetrics({ control: deps.control, queue: deps.queue, processMetrics: false });

  app.use('*', requestId({ logger: deps.logger }));
  app.use('*', requestLog({ quietPaths: ['/api/health', '/api/ready', '/api/metrics'] }));
  app.use('*', metrics.http());
  app.use('*', secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      // WebAssembly (the field-capture page's face gate, MediaPipe) may compile; no JavaScript eval.
      scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    xContentTypeOptions: 'nosniff',
  }));
  if (deps.shutdown) app.use('*', draining({ signal: deps.shutdown, allow: ['/api/health', '/api/ready'] }));
  // 256 KB, except the photo upload (its own limit, still checked before the body is read).
  app.use('*', bodyLimit({ maxBytes: 256 * 1024, routes: [PHOTO_BODY_LIMIT] }));
  app.use('/api/*', session({ control: deps.control, ttlMs, skip: ['/api/health', '/api/ready'] }));
  app.use('/api/*', csrf({ exempt: ['/api/auth/login'] }));
  app.use('/api/auth/login', loginRateLimit(deps.config.loginRateLimit ?? {}));

  registerHealthRoutes(app, deps);
  registerOpsRoutes(app, deps, metrics);
  registerAuthRoutes(app, deps, ttlMs);
  registerCatalogRoutes(app, deps);
  registerPipelineRoutes(app, deps);
  registerJobListRoutes(app, deps);
  registerExportRoutes(app, deps);
  registerDisclosurePreviewRoutes(app, deps);
  registerApprovalRoutes(app, deps);
  registerPolicyRoutes(app, deps);
  registerBudgetRoutes(app, deps);
  registerFollowUpRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerOperatorRoutes(app, deps);
  registerPhotoRoutes(app, deps);
  registerDocsRoutes(app);
  registerHomeRoutes(app);

  app.notFound(notFoundHandler);
  app.onError(errorHandler);

  // The first unknown-user login would otherwise also pay for hashing the dummy password.
  primeAuth().catch((e: unknown) => { deps.logger.error({ err: e }, 'could not prepare password hashing'); });
  return app;
}
