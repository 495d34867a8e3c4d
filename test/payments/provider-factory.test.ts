import { describe, expect, it } from 'vitest';
import { createPaymentProvider, parseStripeApiBase, paymentConfigFromEnv } from '../../src/payments/provider-factory.js';
import { SimulatedPaymentProvider } from '../../src/payments/simulated-provider.js';
import { StripePaymentProvider } from '../../src/payments/stripe-provider.js';
import { FakeStripeServer } from './fake-stripe-server.js';

describe('createPaymentProvider', () => {
  it('uses the simulated PSP when Stripe is not configured', () => {
    const provider = createPaymentProvider(paymentConfigFromEnv({}));
    expect(provider).toBeInstanceOf(SimulatedPaymentProvider);
    expect(provider.name).toBe('simulated');
  });

  it('uses Stripe when both the secret key and the webhook secret are set', () => {
    const provider = createPaymentProvider(paymentConfigFromEnv({ STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' }));
    expect(provider).toBeInstanceOf(StripePaymentProvider);
    expect(provider.name).toBe('stripe');
  });

  it('refuses a half-configured Stripe instead of silently simulating payments', () => {
    expect(() => createPaymentProvider(paymentConfigFromEnv({ STRIPE_SECRET_KEY: 'sk_test_x' }))).toThrow(/STRIPE_WEBHOOK_SECRET/);
    expect(() => createPaymentProvider(paymentConfigFromEnv({ STRIPE_WEBHOOK_SECRET: 'whsec_x' }))).toThrow(/STRIPE_SECRET_KEY/);
  });

  it('points the Stripe SDK at STRIPE_API_BASE', async () => {
    const server = await FakeStripeServer.start();
    try {
      const provider = createPaymentProvider(
        paymentConfigFromEnv({
          STRIPE_SECRET_KEY: server.secretKey,
          STRIPE_WEBHOOK_SECRET: 'whsec_x',
          STRIPE_API_BASE: `${server.host}:${server.port}:http`,
        }),
      );
      const intent = await provider.createPayment({ orderId: 'o', amountCents: 100, currency: 'eur', idempotencyKey: 'factory', metadata: {} });
      expect(intent.id).toMatch(/^pi_/);
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('parses host:port:protocol and URLs', () => {
    expect(parseStripeApiBase('127.0.0.1:12111:http')).toEqual({ host: '127.0.0.1', port: 12111, protocol: 'http' });
    expect(parseStripeApiBase('http://localhost:12111')).toEqual({ host: 'localhost', port: 12111, protocol: 'http' });
    expect(parseStripeApiBase('https://api.stripe.com')).toEqual({ host: 'api.stripe.com', port: 443, protocol: 'https' });
    expect(() => parseStripeApiBase('localhost')).toThrow(/STRIPE_API_BASE/);
  });
});
