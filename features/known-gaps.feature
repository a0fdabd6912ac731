@security @known-gaps @known-gap
Feature: Known gaps: what the components cannot give, shown as it is, and what limits it
  Each scenario shows what really happens (a gap is reported as "known gap", never hidden)
  and the measure that limits it. docs/trust-model.md lists them with the reasons. A scenario
  here passes because the gap is there: it never counts as proof of the requirements its tags
  name, it makes their verdict "known gap" (evidence/verdicts.ts). Each is tagged with the
  requirements it shows a hole in, and with @known-gap-attack when it is an attack that
  succeeds by design: the run summary lists it so, never as refused (it is not @attack, the
  tag that selects the attacks which must be refused).

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  # The white list admits an address, and http-01 proves control of it; during the window, the
  # first credential of a white-listed address to ask for an identity nobody holds enrols it.
  # A rogue host on a white-listed address can therefore take an identity before its device
  # does. Naming the identity for its address in the white list closes that for the named ones.
  @known-gap-attack @FR-PS-002 @S004-ZTP-01 @needs:ca-log
  Scenario: During the window, a host on a white-listed address can enrol an identity nobody holds yet; naming the identity closes it
    Given the white list also names the identity of a device that has not provisioned yet
    And an attacker on a white-listed address with a bootstrap credential of its own
    When the attacker trades its bootstrap credential for the named identity directly at step-ca
    Then the attack is refused with HTTP 403
    And step-ca logs "(identity-not-named)"
    When the attacker trades its bootstrap credential for an identity nobody holds or named directly at step-ca
    Then step-ca issues it, enrolled on first use (known gap)
    And the named device provisions itself and holds its identity

  # The service takes a new bootstrap credential for the address an identity was enrolled from
  # as that device coming back (its store lost, its bootstrap credential expired or revoked): it
  # hands the identity over and supersedes the old credential. A second host sharing the
  # device's address (behind NAT, in one pod) cannot be told from the device: it takes the
  # identity over. What limits it: the device's credential is revoked as superseded and the
  # audit log records it; one address per device is the installation's part (docs/trust-model.md).
  @known-gap-attack @FR-PS-002 @S004-ZTP-01 @needs:ca-log
  Scenario: A host on an enrolled device's address takes its identity over, taken for the device coming back (known gap)
    Given a victim device connected to the broker
    And an attacker on the victim's address with a bootstrap credential of its own
    When the attacker trades its bootstrap credential for the victim's identity directly at step-ca
    Then step-ca issues the victim's identity to the attacker, superseding the victim's bootstrap credential (known gap)
    And the service's audit log records the victim's bootstrap credential as revoked, superseded
    And step-ca refuses the victim's old bootstrap credential as revoked

  # step-ca calls no webhook on /1.0/renew: renewal is authenticated by the certificate being
  # renewed, so revoking a device's bootstrap credential does not stop its operational one from
  # renewing. The service still sees the renewal (it follows step-ca's issuance log), so the
  # engineer revokes the operational certificate too, and the broker drops and refuses it.
  @known-gap-attack @FR-CA-003 @S004-MODE-03 @needs:broker-log
  Scenario: A device whose bootstrap credential was revoked still renews its operational certificate; revoking that one takes it off
    Given the application server is provisioned
    And 1 devices connected to the broker
    When the service engineer revokes the first device's bootstrap credential
    And the first device renews its certificate directly at step-ca over mutual TLS
    Then step-ca renewed it (known gap)
    And within 1 second the inventory lists the renewed certificate as issued by "renewal"
    When the service engineer revokes the renewed certificate by its serial
    Then the broker disconnects the first device within 5 seconds
    And the first device's reconnect is refused with "certificate revoked"

  # Mosquitto 2.0.11 takes the client's identity from the certificate's CN (use_identity_as_username)
  # and has no option to read an otherName SAN; only a C plugin calling mosquitto_client_certificate()
  # could, and the lab has none. The device id is checked where it can be: the service's webhook
  # before step-ca signs (device-id-san.feature), and the clients at installation and power-up.
  @known-gap-attack @S003-SVAL-02 @needs:ca-keys @needs:broker-log
  Scenario: The broker lets in a certificate of the issuing CA whose device id otherName disagrees with its CN, as its CN (known gap)
    Given a certificate of the issuing CA for "RVS-OTHERNAME-GAP" whose device id otherName names "RVS-00042"
    When that certificate opens a session at the broker
    Then the broker lets it in as "RVS-OTHERNAME-GAP" (known gap: it cannot read the otherName)
