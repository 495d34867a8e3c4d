import type { Clock } from '../shared/clock.js';
import type { PaymentProvider } from './payment-provider.js';
import type { SimulatedProviderOptions } from './simulated-provider.js';
import { SimulatedPaymentProvider } from './simulated-provider.js';
import { StripePaymentProvider } from './stripe-provider.js';

export interface PaymentProviderConfig {
  /** STRIPE_SECRET_KEY */
  stripeSecretKey?: string | undefined;
  /** STRIPE_WEBHOOK_SECRET */
  stripeWebhookSecret?: string | undefined;
  /**
   * STRIPE_API_BASE: where the Stripe SDK sends requests, for tests and stripe-mock. Either
   * `host:port:protocol` (e.g. `127.0.0.1:12111:http`) or a URL (`http://127.0.0.1:12111`).
   */
  stripeApiBase?: string | undefined;
  /** Options of the simulated PSP used when Stripe is not configured. */
  simulated?: SimulatedProviderOptions;
  clock?: Clock;
}

/**
 * Stripe when both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set, else the simulated PSP.
 * Exactly one of the two set is refused: a half-configured Stripe silently falling back to the
 * simulated PSP (which accepts test cards) would give tickets away.
 */
export function createPaymentProvider(config: PaymentProviderConfig): PaymentProvider {
  const secretKey = config.stripeSecretKey || undefined;
  const webhookSecret = config.stripeWebhookSecret || undefined;
  if (secretKey !== undefined && webhookSecret !== undefined) {
    const base = config.stripeApiBase ? parseStripeApiBase(config.stripeApiBase) : {};
    return new StripePaymentProvider({ secretKey, webhookSecret, ...base, ...(config.clock ? { clock: config.clock } : {}) });
  }
  if (secretKey !== undefined || webhookSecret !== undefined) {
    throw new Error('Set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET to use Stripe, or neither for the simulated PSP');
  }
  const simulated: SimulatedProviderOptions = { ...config.simulated };
  if (config.clock && !simulated.clock) simulated.clock = config.clock;
  return new SimulatedPaymentProvider(simulated);
}

/** Reads the provider settings from the environment (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE). */
export function paymentConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PaymentProviderConfig {
  return {
    stripeSecretKey: env['STRIPE_SECRET_KEY'] || undefined,
    stripeWebhookSecret: env['STRIPE_WEBHOOK_SECRET'] || undefined,
    stripeApiBase: env['STRIPE_API_BASE'] || undefined,
  };
}

export interface StripeApiBase {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

export function parseStripeApiBase(value: string): StripeApiBase {
  const trimmed = value.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    const url = new URL(trimmed);
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port, protocol };
  }
  const match = /^(.+):(\d{1,5}):(https?)$/i.exec(trimmed);
  if (!match) throw new Error(`STRIPE_API_BASE must be host:port:protocol or a URL, got "${value}"`);
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) throw new Error(`STRIPE_API_BASE port out of range: ${port}`);
  return { host: match[1]!, port, protocol: match[3]!.toLowerCase() === 'http' ? 'http' : 'https' };
}
