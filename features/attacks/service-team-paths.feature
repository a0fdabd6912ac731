@attack @security
Feature: An attacker tries the paths of the mixed fleet: identities the service team holds, the legacy listener, and telemetry that lies about its sender
  Identities the service team holds (a 2.0 or 1.x device it certified, or gave a legacy
  credential) are never bought by a bootstrap credential. A legacy credential reaches only its own
  topics under the legacy tree (the broker's dynamic security role). The application takes each
  message's sender from the topic, which the broker ties to the sender's identity, and refuses a
  payload naming another device, or firmware that must use a certificate arriving on a password.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned
    And an attacker on a white-listed address with a bootstrap credential of its own

  @FR-CA-003 @needs:ca-log
  Scenario Outline: X5C for the identity of a device the service team certified, <where>
    Given a victim device with firmware "2.0" certified by the service team and connected
    When the attacker trades its bootstrap credential for the victim's identity <where>
    Then the attack is refused with HTTP 403
    And step-ca logs "(identity-taken)"
    And the audit log records the refusal "identity-taken"
    And no certificate for the victim's identity was issued during the attack

    Examples:
      | where                            |
      | through the provisioning service |
      | directly at step-ca              |

  @FR-PS-004 @needs:legacy-listener
  Scenario: A CSR named after a device on a legacy credential, on the plain-HTTP bootstrap endpoint
    Given a victim device with firmware "1.3" connected on a legacy credential
    When the attacker sends a CSR named after the victim to the bootstrap endpoint
    Then the attack is refused with HTTP 403 and the code "identity-taken"
    And the audit log records the refusal "identity-taken"
    And no certificate for the victim's identity was issued during the attack

  @FR-LA-004 @NFR-USE-002 @S003-ID-01
  Scenario: Telemetry on the attacker's own topic that names the victim as its sender
    Given a victim device connected to the broker
    And the attacker holds an operational certificate for its own identity
    When the attacker publishes telemetry on its own topic naming the victim as the sender
    Then the application refuses the message as "identity-mismatch" and logs the cause
    And the victim's telemetry still reaches the application

  @FR-LA-004 @NFR-USE-002 @S000-BC-02 @needs:legacy-listener
  Scenario: A legacy credential reporting firmware that must authenticate with a certificate
    Given a victim device with firmware "1.3" connected on a legacy credential
    When the victim's credential is used to send telemetry claiming firmware "2.1"
    Then the application refuses the message as "certificate-required" and logs the cause
