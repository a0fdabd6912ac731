@attack @security
Feature: An attacker on the device network tries to become the managing application
  Whoever holds a certificate named "lumia" reads every device's telemetry and commands every
  device. The attacker is a device of the installation: its address is on the white list and it
  holds a bootstrap credential of its own. The application identity is reserved: only a
  white-list entry naming it for the application's own address enrols it, and only the
  engineer writes the white list. Every path is tried, and each refusal is found in the log of
  the component that refused.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned
    And an attacker on a white-listed address with a bootstrap credential of its own

  @FR-PS-004 @NFR-USE-002
  Scenario: A CSR named "lumia" on the plain-HTTP bootstrap endpoint
    When the attacker sends a CSR named "lumia" to the bootstrap endpoint
    Then the attack is refused with HTTP 403 and the code "identity-reserved"
    And the audit log records the refusal "identity-reserved"
    And no certificate named "lumia" was issued to the attacker

  @FR-PS-001 @NFR-USE-002
  Scenario: Server-side key generation for "lumia"
    When the attacker asks the service to generate a key and a certificate named "lumia"
    Then the attack is refused with HTTP 403 and the code "identity-reserved"
    And the audit log records the refusal "identity-reserved"
    And no certificate named "lumia" was issued to the attacker

  @NFR-SEC-003 @S003-BP-02
  Scenario: Server-side key generation over the plain channel, where a private key would travel in clear
    When the attacker asks for server-side key generation over plain HTTP
    Then the attack is refused with HTTP 404

  # The strongest attacker: one that can answer http-01 for the name (a process on the CA's host).
  @FR-CA-002 @NFR-USE-002 @needs:ca-log
  Scenario Outline: An ACME order for "localhost", the broker's and the service's name, <where>
    When the attacker orders a bootstrap certificate for the DNS name "localhost" by ACME <where> and answers its challenge
    Then the attack is refused with the ACME problem "urn:ietf:params:acme:error:unauthorized"
    And the bootstrap step-ca logs "(bad-identifier)"
    And the audit log records the refusal "bad-identifier"

    Examples:
      | where                         |
      | through the provisioning gate |
      | directly at the bootstrap CA  |

  @FR-CA-003 @NFR-USE-002 @needs:ca-log
  Scenario Outline: X5C for "lumia" with the attacker's own bootstrap credential, <where>
    When the attacker trades its bootstrap credential for a certificate named "lumia" <where>
    Then the attack is refused with HTTP 403
    And step-ca logs "(identity-reserved)"
    And the audit log records the refusal "identity-reserved"
    And no certificate named "lumia" was issued to the attacker

    Examples:
      | where                            |
      | through the provisioning service |
      | directly at step-ca              |

  @FR-MB-001 @NFR-USE-002 @S004-ZTP-04 @needs:broker-log
  Scenario: The attacker's bootstrap credential opens no MQTT session
    When the attacker connects to the broker with its bootstrap credential
    Then the broker refuses the TLS handshake with the alert "unknown ca"
    And the broker logs the attacker's failed handshake "certificate verify failed"
