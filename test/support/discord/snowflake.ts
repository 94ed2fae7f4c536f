/**
 * Snowflake ids for the Discord stand-in: real-shaped (18-19 digits, time in the top bits).
 * discord.js's REST queue only recognises 17-19 digit ids as major parameters, so shape matters.
 */

const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

/** A new unique snowflake string, increasing over time like Discord's. */
export function nextSnowflake(): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}
