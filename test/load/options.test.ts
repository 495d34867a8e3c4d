import { describe, expect, it } from 'vitest';
import { parseLoadArgs } from '../../load/options.js';

const env = {};
const enginesOf = (...flags: string[]) => parseLoadArgs(['--scenario', 'hot-seats', ...flags], env)!.engines;

describe('load options: which engines run', () => {
  it('hot-seats compares the show actor with the baseline unless told otherwise', () => {
    expect(enginesOf()).toEqual(['holdfast', 'baseline']);
    expect(enginesOf('--engine', 'both')).toEqual(['holdfast', 'baseline']);
    expect(enginesOf('--engine', 'baseline')).toEqual(['baseline']);
  });

  it('adds the gateway floor with --engine all, or runs it alone', () => {
    expect(enginesOf('--engine', 'all')).toEqual(['holdfast', 'baseline', 'gateway']);
    expect(enginesOf('--engine', 'gateway')).toEqual(['gateway']);
    expect(parseLoadArgs(['--scenario', 'hot-seats'], { LOAD_ENGINE: 'all' })!.engines).toEqual(['holdfast', 'baseline', 'gateway']);
  });

  it('refuses an unknown engine, from the command line or the environment, naming the choices', () => {
    expect(() => enginesOf('--engine', 'fastest')).toThrow(/--engine must be one of holdfast, baseline, gateway, both, all/);
    expect(() => enginesOf('--engine', 'toString')).toThrow(/--engine must be one of/);
    expect(() => parseLoadArgs(['--scenario', 'hot-seats'], { LOAD_ENGINE: 'constructor' })).toThrow(/LOAD_ENGINE must be one of/);
  });

  it('runs the gateway floor on hot-seats only, and every engine but holdfast only on a server of its own', () => {
    expect(() => parseLoadArgs(['--scenario', 'onsale', '--engine', 'gateway'], env)).toThrow(/hot-seats only/);
    expect(() => parseLoadArgs(['--scenario', 'hot-seats', '--engine', 'gateway', '--url', 'http://127.0.0.1:3000'], env)).toThrow(/gateway needs the harness to start its own server/);
    expect(() => parseLoadArgs(['--scenario', 'hot-seats', '--engine', 'all', '--url', 'http://127.0.0.1:3000'], env)).toThrow(/baseline, gateway needs/);
    expect(parseLoadArgs(['--scenario', 'hot-seats', '--url', 'http://127.0.0.1:3000'], env)!.engines).toEqual(['holdfast']);
  });
});
