/**
 * How many of an entity's newest pushed events its online record keeps apart, unfolded
 * (OnlineRecord.recent): a lookup at t leaves out exactly those at or after t. A lookup is
 * exact at any t after the newest folded event; with pushes in time order, that is every
 * t after all but the newest RECENT_EVENTS events of the entity.
 */
export const RECENT_EVENTS = 8;
