// The Content-Security-Policy and companion headers for Moat's own pages, shared by the headless
// host (http://127.0.0.1) and the Electron app protocol (moat://app) so the two cannot drift.

/**
 * The renderer needs nothing but its own bundle: no inline or eval'd script, no remote anything.
 * `style-src 'unsafe-inline'` stays because CodeMirror and uPlot set inline styles; styles cannot
 * run code. `connect-src` is where the headless host adds its WebSocket origins.
 */
export function contentSecurityPolicy(extraConnectSrc: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src ${["'self'", ...extraConnectSrc].join(' ')}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Sent with every response from either transport (never any Access-Control-* header). */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=()',
  };
}
