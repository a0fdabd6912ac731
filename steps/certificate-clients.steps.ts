// Which certificate client a scenario's devices use: the lab's own Node client, or the step CLI.
import { defineParameterType, Given } from '@cucumber/cucumber';
import type { DriverKind } from '../simulators/client/certificate-driver.ts';
import { STEP_CLI_SOURCE } from '../simulators/client/step-cli-driver.ts';
import type { LabWorld } from './support/world.ts';

defineParameterType({
  name: 'certificateClient',
  regexp: /lab's Node client|step CLI/,
  transformer: (text: string): DriverKind => (text === 'step CLI' ? 'step-cli' : 'node'),
});

async function useClient(world: LabWorld, kind: DriverKind): Promise<void> {
  world.driverKind = kind;
  // The step CLI's requests come from 127.0.0.1: while provisioning is ON, the engineer lists it too.
  if (kind === 'step-cli' && (await world.admin.state()).enabled) await world.admin.setWhitelist([...(await world.admin.whitelist()), STEP_CLI_SOURCE]);
}

Given("the device's certificate client is the {certificateClient}", async function (this: LabWorld, kind: DriverKind) {
  await useClient(this, kind);
});

Given("the new device's certificate client is the {certificateClient}", async function (this: LabWorld, kind: DriverKind) {
  await useClient(this, kind);
});
