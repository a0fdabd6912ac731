@security @bad-input @FR-DS-002 @NFR-SEC-003 @NFR-USE-002 @S003-PERM-01 @S003-PERM-02 @S002-INS-02 @S000-TST-01 @S000-TST-02
Feature: A device that finds its certificate store damaged says why and re-acquires
  At power-up a device validates its store before using it (seed 003 "Certificate Validation").
  A key readable by others, a truncated certificate or a key that belongs to another certificate
  is each reported with its own reason code, in the power-up result and in the device's log; the
  operational pair is discarded and re-acquired with the still-valid bootstrap certificate,
  without the provisioning service being opened again. The new key is written 0600.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  Scenario Outline: A device whose stored <damage> powers up
    Given a device provisioned with an operational certificate valid for 3600 seconds
    And the device goes offline
    And the service engineer turns provisioning OFF
    When the device's stored <damage>
    And the device powers up again
    Then it finds its certificate "<reason>" and discards it
    And its log records the discarded certificate with the reason "<reason>"
    And it re-acquires an operational certificate with its bootstrap certificate and connects
    And its new private key is readable by its owner only

    Examples:
      | damage                                             | reason                |
      | private key is readable by everyone (mode 0644)    | key-permissions       |
      | certificate file is truncated in the middle        | malformed-certificate |
      | private key file holds no key at all               | malformed-certificate |
      | private key belongs to another certificate         | key-mismatch          |
