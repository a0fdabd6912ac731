// The names an operational certificate may carry (docs/trust-model.md, seed 003): its identity's
// URI SAN, and the device id in an otherName SAN equal to its CN. Checked in the x5c-identity
// webhook on the certificate step-ca is about to sign, after its template: the broker takes the
// CN as the identity and cannot read an otherName, so this is where a disagreement is stopped.

export type San = { type: string; value: string };
export type NamesRefusal = { code: 'bad-san' | 'device-id-mismatch'; message: string };

/** step-ca's template gives an otherName's value with its ASN.1 type ("utf8:RVS-0042"). */
function otherNameText(value: string): string {
  return value.startsWith('utf8:') ? value.slice(5) : value;
}

export function operationalNamesRefusal(names: readonly San[], identity: string, uriSan: string, deviceIdOid: string): NamesRefusal | undefined {
  const asked = names.map((n) => `${n.type}:${n.value}`).join(', ') || 'none';
  const uris = names.filter((n) => n.type === 'uri');
  const deviceIds = names.filter((n) => n.type === deviceIdOid);
  const others = names.filter((n) => n.type !== 'uri' && n.type !== deviceIdOid);
  if (others.length > 0 || uris.length !== 1 || uris[0]!.value !== uriSan || deviceIds.length !== 1) {
    return { code: 'bad-san', message: `an operational certificate for ${identity} carries exactly its SAN ${uriSan} and one device id (otherName ${deviceIdOid}); asked for ${asked}` };
  }
  const deviceId = otherNameText(deviceIds[0]!.value);
  if (deviceId !== identity) {
    return { code: 'device-id-mismatch', message: `the device id in the otherName SAN (${deviceIdOid}) is ${deviceId}, but the certificate's CN is ${identity}` };
  }
  return undefined;
}
