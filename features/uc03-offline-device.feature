@uc03 @UC-03
Feature: UC-03 Offline device reconnects
  A device that was switched off comes back with a certificate that is no longer good. At
  power-up it validates its store, finds out why, discards the operational certificate and
  re-acquires one with its still-valid bootstrap certificate — without the provisioning
  service being opened again — then reconnects.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned

  @NFR-REL-001 @NFR-SEC-002 @S003-DVAL-01 @S001-CRT-01 @needs:clock
  Scenario Outline: A device returns with an expired certificate (<client>)
    Given the device's certificate client is the <client>
    And a device provisioned with an operational certificate valid for 6 seconds
    And the device goes offline
    And the service engineer turns provisioning OFF
    When its operational certificate expires while it is offline
    And the device powers up again
    Then it finds its certificate "expired" and discards it
    And it re-acquires an operational certificate with its bootstrap certificate and connects
    And its telemetry reaches the application again
    And every certificate and key of the installation uses the profile's key algorithm

    Examples:
      | client            |
      | lab's Node client |
      | step CLI          |

  @FR-DS-002 @S003-DVAL-03 @S000-CA-15 @S002-TRB-03 @needs:broker-log
  Scenario Outline: A device returns with a revoked certificate (<client>)
    Given the device's certificate client is the <client>
    And a device provisioned with an operational certificate valid for 3600 seconds
    And the device goes offline
    When the service engineer revokes the device's operational certificate
    And the service engineer turns provisioning OFF
    And the device powers up again
    Then it finds its certificate "revoked" and discards it
    And it re-acquires an operational certificate with its bootstrap certificate and connects
    And its telemetry reaches the application again

    Examples:
      | client            |
      | lab's Node client |
      | step CLI          |

  @FR-CA-002 @FR-DS-002 @S004-ZTP-03 @needs:broker-log
  Scenario Outline: A device whose bootstrap credential was revoked re-provisions by ACME and keeps its identity (<client>)
    Given the device's certificate client is the <client>
    And a device provisioned with an operational certificate valid for 3600 seconds
    And the device goes offline
    When the service engineer revokes the device's operational certificate
    And the service engineer revokes the device's bootstrap credential
    And the device powers up again
    Then it finds its certificate "revoked" and discards it
    And it re-provisions by ACME and re-acquires an operational certificate for its own identity
    And its identity is enrolled on its new bootstrap credential
    And its telemetry reaches the application again

    Examples:
      | client            |
      | lab's Node client |
      | step CLI          |

  @NFR-REL-002 @S003-DVAL-01
  Scenario Outline: A restarted device reuses its valid certificate store (<client>)
    Given the device's certificate client is the <client>
    And a device provisioned with an operational certificate valid for 3600 seconds
    When the device process restarts
    And the device powers up again
    Then it connects with its stored certificate without asking the CA for a new one
    And its telemetry reaches the application again

    Examples:
      | client            |
      | lab's Node client |
      | step CLI          |

  # The process dies after step-ca issued the renewed certificate (its log line is awaited) and
  # before the device stored it: the answer is lost, the store still holds the old, valid pair.
  @NFR-REL-001 @NFR-REL-002 @needs:ca-log
  Scenario: A device restarted in the middle of a renewal comes back
    Given a device provisioned with an operational certificate valid for 3600 seconds
    When the device process restarts in the middle of a renewal
    And the device powers up again
    Then it comes back connected with the certificate it held, although step-ca had issued the renewed one
    And its telemetry reaches the application again
