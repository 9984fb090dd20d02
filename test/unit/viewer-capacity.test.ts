import { describe, expect, it } from 'vitest';
import { ViewerCapacity } from '../../server/capacity/ViewerCapacity.js';

describe('ViewerCapacity', () => {
  it('admits up to the cap, refuses politely past it, and frees places', () => {
    const capacity = new ViewerCapacity(2);
    expect(capacity.tryAdmit('a')).toBeUndefined();
    expect(capacity.tryAdmit('a')).toBeUndefined(); // re-join does not take a second place
    expect(capacity.tryAdmit('b')).toBeUndefined();
    const refusal = capacity.tryAdmit('c');
    expect(refusal?.reason).toBe('max-viewers');
    expect(refusal?.message).toBe('This broadcast is full: 2 of 2 viewers are watching. Try again in a few minutes.');
    capacity.release('a');
    expect(capacity.tryAdmit('c')).toBeUndefined();
    expect(capacity.admitted).toBe(2);
  });
});
