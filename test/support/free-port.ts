/** A free loopback port: shipped with the throw-away sshd that needs it; the tests' servers take theirs here too. */
export * from '../../src/standin/free-port.js';
