/** The throw-away sshd lives in shipped code (the demo's host needs it); the tests use the same one. */
export * from '../../src/standin/sshd.js';
