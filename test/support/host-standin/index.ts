/** The simulated OpenClaw host lives in shipped code (the demo runs it); the tests use the same one. */
export * from '../../../src/standin/host-standin.js';
