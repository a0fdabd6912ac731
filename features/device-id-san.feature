@identity @FR-CA-003
Feature: The device id in an otherName SAN (seed 003)
  Seed 003 binds a certificate to its device with an otherName SAN (1.3.6.1.4.1.12345.1.1,
  UTF8String: the device id). The lab's step-ca puts one in every operational certificate
  (trust.deviceIdOid), from the CN the service's webhook has bound to the credential; the webhook
  refuses to let step-ca sign a certificate whose device id disagrees with its CN, and clients
  refuse to install one. The broker cannot read it: known-gaps.feature shows that.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  @FR-DS-002 @S003-ID-02 @S003-ID-03 @S003-CRT-05 @S002-REN-03
  Scenario: A device's operational certificate carries its device id in an otherName SAN, and so does its renewal
    Given a provisioned device connected to the broker
    Then the device's operational certificate carries its device id in an otherName SAN under the lab's device-id OID, equal to its CN
    When the device renews its certificate and keeps the old one aside
    Then the device's operational certificate carries its device id in an otherName SAN under the lab's device-id OID, equal to its CN

  @S003-ID-02 @NFR-USE-002 @needs:ca-keys
  Scenario: Asked as step-ca asks, the service's webhook refuses a certificate whose device id disagrees with its CN, and audits why
    Given a provisioned device connected to the broker
    When step-ca asks the service's webhook to authorize a certificate for the device whose device id otherName names "RVS-SOMEONE-ELSE"
    Then the webhook refuses it with "device-id-mismatch"
    And the audit log records the refusal "device-id-mismatch"

  @FR-LA-002 @S003-ID-02 @S000-APP-10 @needs:ca-keys
  Scenario: The application refuses to install a certificate of the issuing CA whose device id names another device than its CN
    Given the application server is provisioned
    When the service engineer delivers the application a certificate of the issuing CA for its own identity whose device id otherName names "RVS-00042"
    Then the application refuses the installation because of "identity-mismatch" and logs it
    And the application still holds its own certificate and its session
