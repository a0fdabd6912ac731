import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Whitelist, WhitelistError, parseWhitelist, parseWhitelistEntry } from '../../../services/provisioning/whitelist.ts';

function rejects(text: string, expected: string | RegExp): void {
  assert.throws(
    () => parseWhitelistEntry(text),
    (error: unknown) => {
      assert.ok(error instanceof WhitelistError, `expected WhitelistError for ${JSON.stringify(text)}`);
      if (typeof expected === 'string') assert.equal(error.message, expected);
      else assert.match(error.message, expected);
      return true;
    },
  );
}

test('parses the four entry forms of the seed, IPv4 and IPv6', () => {
  const cases: [string, string, string, string, string][] = [
    // text, kind, normalized, first, last
    ['192.168.0.12', 'single', '192.168.0.12', '192.168.0.12', '192.168.0.12'],
    ['::1', 'single', '::1', '::1', '::1'],
    ['FD00:0:0::0:1', 'single', 'fd00::1', 'fd00::1', 'fd00::1'],
    ['192.168.1.0/24', 'cidr', '192.168.1.0/24', '192.168.1.0', '192.168.1.255'],
    ['fd00::/64', 'cidr', 'fd00::/64', 'fd00::', 'fd00::ffff:ffff:ffff:ffff'],
    ['192.168.1.1-192.168.1.10', 'range', '192.168.1.1-192.168.1.10', '192.168.1.1', '192.168.1.10'],
    ['fd00::1 - fd00::ff', 'range', 'fd00::1-fd00::ff', 'fd00::1', 'fd00::ff'],
    ['192.168.1.16/255.255.255.240', 'mask', '192.168.1.16/255.255.255.240', '192.168.1.16', '192.168.1.31'],
    ['fd00::/ffff:ffff::', 'mask', 'fd00::/ffff:ffff::', 'fd00::', 'fd00:0:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [text, kind, normalized, first, last] of cases) {
    const entry = parseWhitelistEntry(text);
    assert.deepEqual({ ...entry }, { text, kind, normalized, first, last, family: first.includes(':') ? 'ipv6' : 'ipv4' }, text);
  }
});

test('keeps the original text, trims for parsing, and clears host bits in the normalized form', () => {
  const cidr = parseWhitelistEntry('  192.168.1.77/24 ');
  assert.equal(cidr.text, '  192.168.1.77/24 ');
  assert.equal(cidr.normalized, '192.168.1.0/24');
  assert.equal(parseWhitelistEntry('10.1.2.3/255.0.0.0').normalized, '10.0.0.0/255.0.0.0');
  assert.equal(parseWhitelistEntry('0.0.0.0/0').last, '255.255.255.255');
  assert.equal(parseWhitelistEntry('10.0.0.7-10.0.0.7').kind, 'range');
});

test('shows IPv4-mapped IPv6 entries in dotted form', () => {
  assert.equal(parseWhitelistEntry('::FFFF:127.0.0.5').normalized, '::ffff:127.0.0.5');
});

test('rejects invalid addresses with a message naming the entry', () => {
  rejects('10.0.0.300', '"10.0.0.300" is not a valid IPv4 or IPv6 address');
  rejects('garbage', '"garbage" is not a valid IPv4 or IPv6 address');
  rejects('1.2.3', /"1\.2\.3" is not a valid IPv4 or IPv6 address/);
  rejects('1.2.3.4.5', /not a valid IPv4 or IPv6 address/);
  rejects('fd00:::1', /"fd00:::1" is not a valid/);
  rejects('12345::1', /not a valid/);
  rejects('http://10.0.0.1', /"http:\/\/10\.0\.0\.1" must be address\/prefix or address\/mask/);
  rejects('10.0.0.1,10.0.0.2', /not a valid/);
  rejects('10.0.0.1-10.0.0.300', '"10.0.0.1-10.0.0.300": "10.0.0.300" is not a valid IPv4 or IPv6 address');
});

test('rejects legacy IPv4 spellings that ipaddr.js would accept', () => {
  for (const text of ['127.1', '0x7f.0.0.1', '010.0.0.1', '2130706433']) {
    rejects(text, /IPv4 must be four decimal octets/);
  }
});

test('rejects an IPv6 zone id', () => {
  rejects('fe80::1%eth0', /zone id/);
});

test('rejects empty and blank entries', () => {
  rejects('', 'white list entry is empty');
  rejects('   \t', 'white list entry is empty');
});

test('rejects bad CIDR prefixes', () => {
  rejects('10.0.0.0/33', '"10.0.0.0/33" has prefix length /33, but IPv4 allows 0-32');
  rejects('fd00::/129', '"fd00::/129" has prefix length /129, but IPv6 allows 0-128');
  rejects('10.0.0.0/-1', /invalid prefix length/);
  rejects('10.0.0.0/abc', /invalid prefix length/);
  rejects('10.0.0.0/1000', /invalid prefix length/);
  rejects('10.0.0.0/', /must be address\/prefix or address\/mask/);
  rejects('/24', /must be address\/prefix or address\/mask/);
  rejects('10.0.0.0/24/8', /must be address\/prefix or address\/mask/);
  rejects('10.0.0.999/24', '"10.0.0.999/24": "10.0.0.999" is not a valid IPv4 or IPv6 address');
});

test('rejects bad ranges', () => {
  rejects('10.0.0.9-10.0.0.1', 'range "10.0.0.9-10.0.0.1" starts after it ends');
  rejects('fd00::9-fd00::1', 'range "fd00::9-fd00::1" starts after it ends');
  rejects('  10.0.0.9 - 10.0.0.1\t', 'range "10.0.0.9 - 10.0.0.1" starts after it ends');
  rejects('10.0.0.1-::1', 'range "10.0.0.1-::1" mixes IPv4 and IPv6 addresses');
  rejects('::1-10.0.0.1', 'range "::1-10.0.0.1" mixes IPv6 and IPv4 addresses');
  rejects('10.0.0.1-', /must be two addresses separated by one "-"/);
  rejects('-10.0.0.1', /must be two addresses separated by one "-"/);
  rejects('10.0.0.1-10.0.0.2-10.0.0.3', /must be two addresses separated by one "-"/);
});

test('rejects bad masks', () => {
  rejects('10.0.0.0/255.0.255.0', '"10.0.0.0/255.0.255.0": mask 255.0.255.0 is not a contiguous netmask');
  rejects('10.0.0.0/0.0.0.255', /mask 0\.0\.0\.255 is not a contiguous netmask/);
  rejects('10.0.0.0/255.255.255.256', /"255\.255\.255\.256" is not a valid/);
  rejects('fd00::/255.255.255.0', '"fd00::/255.255.255.0" combines an IPv6 address with an IPv4 mask');
  rejects('10.0.0.0/ffff::', '"10.0.0.0/ffff::" combines an IPv4 address with an IPv6 mask');
  rejects('fd00::/ffff:0:ffff::', /is not a contiguous netmask/);
});

test('parseWhitelist reports every invalid entry at once', () => {
  assert.throws(
    () => parseWhitelist(['10.0.0.1', '10.0.0.300', '', '10.0.0.0/33', '::1', '10.0.0.9-10.0.0.1']),
    (error: unknown) => {
      assert.ok(error instanceof WhitelistError);
      assert.deepEqual(error.problems, [
        '"10.0.0.300" is not a valid IPv4 or IPv6 address',
        'entry 3: white list entry is empty',
        '"10.0.0.0/33" has prefix length /33, but IPv4 allows 0-32',
        'range "10.0.0.9-10.0.0.1" starts after it ends',
      ]);
      assert.match(error.message, /^4 invalid white list entries:\n {2}- "10\.0\.0\.300"/);
      return true;
    },
  );
});

test('parseWhitelist dedupes on the normalized form, keeping the first spelling and order', () => {
  const list = parseWhitelist(['10.0.0.0/8', ' 127.0.0.5', '10.9.9.9/8', '127.0.0.5', '::1', '0:0::1']);
  assert.deepEqual(list.entries, ['10.0.0.0/8', '127.0.0.5', '::1']);
  assert.equal(list.size, 3);
  assert.equal(list.parsedEntries[1]!.text, ' 127.0.0.5');
  assert.deepEqual(parseWhitelist([]).entries, []);
});

test('matches addresses against every form', () => {
  const list = parseWhitelist([
    '127.0.0.5',
    '192.168.1.0/24',
    '10.0.0.1-10.0.0.10',
    '172.16.0.16/255.255.255.240',
    'fd00::/64',
    '2001:db8::1-2001:db8::ff',
  ]);
  const allowed = ['127.0.0.5', '192.168.1.0', '192.168.1.255', '10.0.0.1', '10.0.0.10', '172.16.0.16', '172.16.0.31',
    'fd00::1234', 'fd00::ffff:ffff:ffff:ffff', '2001:db8::1', '2001:db8::ff', ' 127.0.0.5 '];
  const refused = ['127.0.0.6', '192.168.2.1', '10.0.0.0', '10.0.0.11', '172.16.0.15', '172.16.0.32', 'fd00:0:0:1::1',
    '2001:db8::100', '::1', '0.0.0.0'];
  for (const address of allowed) assert.equal(list.matches(address), true, address);
  for (const address of refused) assert.equal(list.matches(address), false, address);
  assert.equal(list.match('10.0.0.5')?.normalized, '10.0.0.1-10.0.0.10');
});

test('matches IPv4-mapped IPv6 source addresses as Node reports them, and the reverse', () => {
  const list = parseWhitelist(['127.0.0.5', '192.168.1.0/24']);
  assert.equal(list.matches('::ffff:127.0.0.5'), true);
  assert.equal(list.matches('::FFFF:192.168.1.200'), true);
  assert.equal(list.matches('::ffff:7f00:5'), true);
  assert.equal(list.matches('::ffff:127.0.0.6'), false);
  const mapped = parseWhitelist(['::ffff:10.0.0.1']);
  assert.equal(mapped.matches('10.0.0.1'), true);
  assert.equal(mapped.matches('::ffff:10.0.0.1'), true);
});

test('matches IPv6 sources with a zone id by address', () => {
  assert.equal(parseWhitelist(['fe80::/10']).matches('fe80::1%eth0'), true);
});

test('never matches garbage, legacy spellings or a missing address', () => {
  const list = parseWhitelist(['0.0.0.0/0', '::/0']);
  for (const address of ['', 'garbage', '127.1', '2130706433', '10.0.0.300', undefined]) {
    assert.equal(list.matches(address), false, String(address));
  }
  assert.equal(Whitelist.empty.matches('127.0.0.1'), false);
});

test('an entry may name the identity of a single address; the name is found by address and the address by name', () => {
  const list = parseWhitelist(['127.0.0.0/24', '127.0.0.5=RVS-0042', ' 127.0.0.6 = lumia ']);
  assert.deepEqual(list.entries, ['127.0.0.0/24', '127.0.0.5=RVS-0042', '127.0.0.6=lumia']);
  assert.equal(list.namedIdentity('127.0.0.5'), 'RVS-0042');
  assert.equal(list.namedIdentity('127.0.0.7'), undefined, 'covered by the CIDR block, named by nothing');
  assert.equal(list.namedAddress('rvs-0042'), '127.0.0.5');
  assert.ok(list.matches('127.0.0.5'), 'a named entry admits its address');
});

test('named entries are refused for ranges, bad identities, a name twice or an address named twice', () => {
  const problems = (entries: string[]) => {
    try {
      parseWhitelist(entries);
      return [];
    } catch (err) {
      return [...(err as WhitelistError).problems];
    }
  };
  assert.match(problems(['10.0.0.0/24=RVS-1'])[0]!, /single address only, not for a cidr/);
  assert.match(problems(['10.0.0.1=bad name'])[0]!, /is not an identity/);
  assert.match(problems(['10.0.0.1=RVS-1=x'])[0]!, /must be address=identity/);
  assert.match(problems(['10.0.0.1=RVS-1', '10.0.0.2=rvs-1'])[0]!, /already named for 10\.0\.0\.1/);
  assert.match(problems(['10.0.0.1=RVS-1', '10.0.0.1=RVS-2'])[0]!, /already named RVS-1/);
});
