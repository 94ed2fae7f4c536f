/**
 * One change counter for everything people (and running fixes) ask of a host's monitor between ticks:
 * acks and mutes. Every write of those bumps it in the same MULTI, so each process reads this one key
 * per half tick and a host monitor reads its own ack and mute keys only when it moved, instead of two
 * Redis commands per host per second (1 000/s at 500 hosts, most of the monitor's CPU and garbage).
 */
import type { ChainableCommander } from 'ioredis';
import type { KeySpace } from './key-space.js';

/** Add the bump to a MULTI that writes an ack or a mute. */
export function bumpControlSeq(multi: ChainableCommander, keys: KeySpace): ChainableCommander {
  return multi.incr(keys.controlSeq());
}
