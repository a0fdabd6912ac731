import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceState, ServiceStateError, type AccessDecision, type ServiceStateEvent } from '../../../services/provisioning/service-state.ts';
import { WhitelistError } from '../../../services/provisioning/whitelist.ts';
import { ManualClock } from './manual-clock.ts';

const START = Date.UTC(2025, 0, 1, 12, 0, 0);
const at = (ms: number) => new Date(START + ms).toISOString();
const reasonOf = (decision: AccessDecision) => (decision.allowed ? 'allowed' : decision.reason);

function setup(options: { start?: number } = {}) {
  const clock = new ManualClock(options.start ?? START);
  const events: ServiceStateEvent[] = [];
  const state = new ServiceState({ clock, listener: (e) => events.push(e) });
  return { clock, state, events };
}

test('is OFF by default and refuses everyone', () => {
  const { state } = setup();
  assert.deepEqual(state.snapshot(), { enabled: false, enabledAt: null, autoOffAt: null, remainingSeconds: null, whitelist: [] });
  assert.deepEqual(state.decide('127.0.0.5'), { allowed: false, reason: 'service-off', message: 'the provisioning service is OFF' });
});

test('ON with a white list admits listed sources only, including IPv4-mapped addresses', () => {
  const { state, events } = setup();
  state.enable({ whitelist: ['127.0.0.5', '127.0.1.0/24'] });
  assert.deepEqual(state.decide('127.0.0.5'), { allowed: true, entry: '127.0.0.5' });
  assert.deepEqual(state.decide('::ffff:127.0.1.9'), { allowed: true, entry: '127.0.1.0/24' });
  assert.deepEqual(state.decide('127.0.0.6'), { allowed: false, reason: 'not-whitelisted', message: '127.0.0.6 is not on the white list' });
  assert.equal(state.decide(undefined).allowed, false);
  assert.deepEqual(events, [{ type: 'enabled', at: at(0), autoOffAt: null, whitelist: ['127.0.0.5', '127.0.1.0/24'] }]);
});

test('ON with an empty white list admits nobody', () => {
  const { state } = setup();
  state.enable();
  assert.deepEqual(state.decide('127.0.0.5'), { allowed: false, reason: 'not-whitelisted', message: '127.0.0.5 refused: the white list is empty' });
});

test('turning OFF clears the white list and reports what was cleared', () => {
  const { state, events, clock } = setup();
  state.enable({ whitelist: ['127.0.0.5'] });
  clock.advance(5000);
  assert.equal(state.disable('engineer done'), true);
  assert.equal(state.snapshot().enabled, false);
  assert.deepEqual(state.snapshot().whitelist, []);
  assert.equal(state.decide('127.0.0.5').allowed, false);
  assert.deepEqual(events.at(-1), { type: 'disabled', at: at(5000), cause: 'admin', reason: 'engineer done', clearedWhitelist: ['127.0.0.5'] });
  assert.equal(state.disable('again'), false, 'already OFF');
  assert.equal(events.length, 2);
  // Turning ON again starts from an empty list.
  state.enable();
  assert.deepEqual(state.snapshot().whitelist, []);
});

test('setWhitelist is all-or-nothing and refused while OFF', () => {
  const { state, events } = setup();
  assert.throws(() => state.setWhitelist(['127.0.0.5']), ServiceStateError);
  state.enable({ whitelist: ['127.0.0.5'] });
  assert.throws(
    () => state.setWhitelist(['127.0.0.6', '10.0.0.300', '10.0.0.0/33']),
    (error: unknown) => error instanceof WhitelistError && error.problems.length === 2,
  );
  assert.deepEqual(state.snapshot().whitelist, ['127.0.0.5'], 'unchanged after a failed update');
  const list = state.setWhitelist([' 127.0.0.6 ', '127.0.0.6', '::1']);
  assert.deepEqual(list.entries, ['127.0.0.6', '::1']);
  assert.equal(state.decide('127.0.0.5').allowed, false);
  assert.equal(state.decide('127.0.0.6').allowed, true);
  assert.deepEqual(events.at(-1), { type: 'whitelist-changed', at: at(0), whitelist: ['127.0.0.6', '::1'] });
});

test('enable validates before changing anything', () => {
  const { state, events, clock } = setup();
  assert.throws(() => state.enable({ whitelist: ['nope'] }), WhitelistError);
  for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => state.enable({ autoOffSeconds: bad }), ServiceStateError);
  }
  assert.equal(state.snapshot().enabled, false);
  assert.equal(events.length, 0);
  assert.equal(clock.pendingTimers, 0);
});

test('auto-off turns the service OFF by itself and clears the list', () => {
  const { state, events, clock } = setup();
  const snapshot = state.enable({ autoOffSeconds: 600, whitelist: ['127.0.0.5'] });
  assert.deepEqual(snapshot, { enabled: true, enabledAt: at(0), autoOffAt: at(600_000), remainingSeconds: 600, whitelist: ['127.0.0.5'] });
  clock.advance(599_500);
  assert.equal(state.snapshot().remainingSeconds, 1, 'rounded up while still ON');
  assert.equal(state.decide('127.0.0.5').allowed, true);
  clock.advance(500);
  assert.equal(clock.pendingTimers, 0);
  assert.deepEqual(events.at(-1), { type: 'disabled', at: at(600_000), cause: 'auto-off', reason: 'auto-off timer expired', clearedWhitelist: ['127.0.0.5'] });
  assert.deepEqual(state.snapshot(), { enabled: false, enabledAt: null, autoOffAt: null, remainingSeconds: null, whitelist: [] });
  assert.equal(reasonOf(state.decide('127.0.0.5')), 'service-off');
});

test('snapshot(now) counts the remaining time from the given instant', () => {
  const { state } = setup();
  state.enable({ autoOffSeconds: 60 });
  assert.equal(state.snapshot(START + 30_000).remainingSeconds, 30);
  assert.equal(state.snapshot(START + 59_001).remainingSeconds, 1);
});

test('a late timer does not let a request through after the deadline', () => {
  const { state, events, clock } = setup();
  state.enable({ autoOffSeconds: 10, whitelist: ['127.0.0.5'] });
  clock.jump(10_000); // time passes, the timer has not run yet
  assert.equal(reasonOf(state.decide('127.0.0.5')), 'service-off');
  assert.equal(events.at(-1)?.type, 'disabled');
  assert.equal(clock.pendingTimers, 0, 'the stale timer was cancelled');
  clock.advance(1000);
  assert.equal(events.filter((e) => e.type === 'disabled').length, 1, 'disabled only once');
});

test('re-enabling replaces the timer; enabling without one cancels it', () => {
  const { state, clock } = setup();
  state.enable({ autoOffSeconds: 10 });
  clock.advance(5000);
  state.enable({ autoOffSeconds: 60 });
  assert.equal(clock.pendingTimers, 1);
  clock.advance(10_000);
  assert.equal(state.snapshot().enabled, true, 'the first deadline no longer applies');
  assert.equal(state.snapshot().autoOffAt, at(65_000));
  state.enable();
  assert.equal(clock.pendingTimers, 0);
  clock.advance(3_600_000);
  assert.equal(state.snapshot().enabled, true);
  assert.equal(state.snapshot().enabledAt, at(0), 'still the same session');
});

test('deadlines beyond setTimeout\'s limit are reached through chained timers', () => {
  const { state, clock } = setup();
  const days30 = 30 * 24 * 3600;
  state.enable({ autoOffSeconds: days30 });
  clock.advance(2 ** 31 - 1);
  assert.equal(state.snapshot().enabled, true, 'not OFF at the first timer');
  clock.advance(days30 * 1000 - (2 ** 31 - 1) - 1);
  assert.equal(state.snapshot().enabled, true);
  clock.advance(1);
  assert.equal(state.snapshot().enabled, false);
});

test('persists and restores across a restart, with an absolute deadline', () => {
  const { state, clock } = setup();
  state.enable({ autoOffSeconds: 600, whitelist: ['127.0.0.5', 'fd00::/64'] });
  clock.advance(100_000);
  const saved = JSON.parse(JSON.stringify(state)) as unknown;
  assert.deepEqual(saved, { version: 1, enabled: true, enabledAt: at(0), autoOffAt: at(600_000), whitelist: ['127.0.0.5', 'fd00::/64'] });
  state.dispose();
  assert.equal(clock.pendingTimers, 0);

  // Restarted 200 s later: 300 s remain, and the timer still fires at the original deadline.
  const clock2 = new ManualClock(START + 300_000);
  const events: ServiceStateEvent[] = [];
  const restored = ServiceState.fromJSON(saved, { clock: clock2, listener: (e) => events.push(e) });
  assert.deepEqual(restored.snapshot(), { enabled: true, enabledAt: at(0), autoOffAt: at(600_000), remainingSeconds: 300, whitelist: ['127.0.0.5', 'fd00::/64'] });
  assert.deepEqual(events, [{ type: 'restored', at: at(300_000), enabled: true, autoOffAt: at(600_000), whitelist: ['127.0.0.5', 'fd00::/64'] }]);
  assert.equal(restored.decide('127.0.0.5').allowed, true);
  clock2.advance(300_000);
  assert.equal(restored.snapshot().enabled, false);
  assert.equal(events.at(-1)?.type, 'disabled');
});

test('restoring after the deadline yields OFF with a cleared list', () => {
  const saved = { version: 1, enabled: true, enabledAt: at(0), autoOffAt: at(600_000), whitelist: ['127.0.0.5'] };
  const clock = new ManualClock(START + 600_000);
  const events: ServiceStateEvent[] = [];
  const restored = ServiceState.fromJSON(saved, { clock, listener: (e) => events.push(e) });
  assert.deepEqual(restored.snapshot(), { enabled: false, enabledAt: null, autoOffAt: null, remainingSeconds: null, whitelist: [] });
  assert.equal(reasonOf(restored.decide('127.0.0.5')), 'service-off');
  assert.equal(clock.pendingTimers, 0);
  assert.deepEqual(events, [{
    type: 'disabled', at: at(600_000), cause: 'auto-off',
    reason: `auto-off deadline ${at(600_000)} passed while the service was down`, clearedWhitelist: ['127.0.0.5'],
  }]);
});

test('restores OFF and ON-without-timer states', () => {
  const clock = new ManualClock(START);
  const off = ServiceState.fromJSON(new ServiceState({ clock }).toJSON(), { clock });
  assert.equal(off.snapshot().enabled, false);
  // An OFF state never carries a list, even if the file says so.
  const tampered = ServiceState.fromJSON({ version: 1, enabled: false, enabledAt: null, autoOffAt: null, whitelist: ['10.0.0.1'] }, { clock });
  assert.deepEqual(tampered.snapshot().whitelist, []);
  const on = ServiceState.fromJSON({ version: 1, enabled: true, enabledAt: at(0), autoOffAt: null, whitelist: ['::1'] }, { clock });
  assert.deepEqual(on.snapshot(), { enabled: true, enabledAt: at(0), autoOffAt: null, remainingSeconds: null, whitelist: ['::1'] });
});

test('fromJSON rejects invalid persisted data', () => {
  const clock = new ManualClock(START);
  for (const bad of [null, 'x', {}, { version: 2, enabled: false, enabledAt: null, autoOffAt: null, whitelist: [] },
    { version: 1, enabled: true, enabledAt: 'yesterday', autoOffAt: null, whitelist: [] }]) {
    assert.throws(() => ServiceState.fromJSON(bad, { clock }), ServiceStateError, JSON.stringify(bad));
  }
  assert.throws(
    () => ServiceState.fromJSON({ version: 1, enabled: true, enabledAt: at(0), autoOffAt: null, whitelist: ['10.0.0.300'] }, { clock }),
    WhitelistError,
  );
});

test('a failing listener neither breaks the state machine nor starves other listeners', () => {
  const clock = new ManualClock(START);
  const failures: string[] = [];
  const state = new ServiceState({ clock, onListenerError: (_error, event) => failures.push(event.type) });
  state.subscribe(() => {
    throw new Error('disk full');
  });
  const seen: string[] = [];
  const unsubscribe = state.subscribe((e) => seen.push(e.type));
  state.enable({ autoOffSeconds: 1 });
  clock.advance(1000);
  assert.equal(state.snapshot().enabled, false);
  assert.deepEqual(failures, ['enabled', 'disabled']);
  assert.deepEqual(seen, ['enabled', 'disabled']);
  unsubscribe();
  state.enable();
  assert.deepEqual(seen, ['enabled', 'disabled']);
});
