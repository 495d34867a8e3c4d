import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { movedShows, ownerOf, type ClusterView } from '../../src/cluster/ownership.js';

const view = (workers: string[], extra: Partial<ClusterView> = {}): ClusterView => ({ workers: [...workers].sort(), draining: [], pins: {}, revision: 1, ...extra });
const shows = Array.from({ length: 4_000 }, (_, index) => `shw-${index.toString(36)}`);

describe('show ownership (rendezvous hashing)', () => {
  it('spreads shows evenly over the workers', () => {
    const counts = new Map<string, number>();
    const workers = ['w1', 'w2', 'w3', 'w4'];
    for (const show of shows) counts.set(ownerOf(show, view(workers))!, (counts.get(ownerOf(show, view(workers))!) ?? 0) + 1);
    for (const worker of workers) expect(counts.get(worker)! / shows.length).toBeGreaterThan(0.2);
  });

  it('adding or removing one of N workers moves only about 1/N of the shows, all to or from that worker', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.nat(), (n, pick) => {
        const workers = Array.from({ length: n }, (_, index) => `vm-w${index + 1}`);
        const before = view(workers);
        const removed = workers[pick % n]!;
        const after = view(workers.filter((worker) => worker !== removed));
        const moved = movedShows(shows, before, after);
        for (const show of moved) expect(ownerOf(show, before)).toBe(removed);
        expect(moved.length / shows.length).toBeLessThan(1 / n + 0.05);
        const grown = view([...workers, 'vm-w99']);
        const gained = movedShows(shows, before, grown);
        for (const show of gained) expect(ownerOf(show, grown)).toBe('vm-w99');
        expect(gained.length / shows.length).toBeLessThan(1 / (n + 1) + 0.05);
      }),
      { numRuns: 30 },
    );
  });

  it('a pin wins while its worker lives, and falls back to the ring when it dies', () => {
    const pinned = view(['w1', 'w2', 'w3'], { pins: { 'shw-mega': 'w3' } });
    expect(ownerOf('shw-mega', pinned)).toBe('w3');
    const dead = view(['w1', 'w2'], { pins: { 'shw-mega': 'w3' } });
    expect(['w1', 'w2']).toContain(ownerOf('shw-mega', dead));
  });

  it('a draining worker keeps only its pinned shows; with every worker draining, shows still have owners', () => {
    const draining = view(['w1', 'w2'], { draining: ['w1'], pins: { 'shw-pinned': 'w1' } });
    for (const show of shows.slice(0, 200)) expect(ownerOf(show, draining)).toBe('w2');
    expect(ownerOf('shw-pinned', draining)).toBe('w1');
    expect(ownerOf('shw-x', view(['w1', 'w2'], { draining: ['w1', 'w2'] }))).not.toBeNull();
    expect(ownerOf('shw-x', view([]))).toBeNull();
  });

  it('every worker with the same view names the same owner (no coordination needed)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 6 }), fc.string(), (workers, show) => {
        const a = ownerOf(show, view(workers));
        const b = ownerOf(show, view([...workers].reverse()));
        expect(a).toBe(b);
      }),
    );
  });
});
