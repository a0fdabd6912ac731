Feature: First device end to end
  A new Reveos device obtains a bootstrap certificate by ACME, trades it for an operational
  certificate, and talks to the managing application over mutual TLS. The broker refuses
  anyone without a certificate from the lab's CA.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  @FR-CA-001 @FR-CA-002 @FR-CA-003 @FR-DS-001 @FR-DS-002 @FR-DS-003 @FR-LA-004
  @S000-CA-03 @S002-ID-01 @S002-INS-02 @S003-CRT-02 @S003-PERM-01 @S001-CRT-02 @NFR-SEC-003
  Scenario: A new device is provisioned and its telemetry reaches the application
    When a new device is provisioned
    Then it holds an operational certificate issued by the lab CA with clientAuth EKU and its identity in the SAN
    And its telemetry reaches the application over mTLS

  @FR-MB-001 @S000-APP-09 @S003-SVAL-01 @needs:broker-log
  Scenario: A client without a certificate is refused by the broker
    When a client connects to the broker without a client certificate
    Then the broker refuses the connection because of "no client certificate"
    And the client is told "certificate required"

  @FR-MB-001 @S000-APP-09 @S002-VAL-03 @S003-SVAL-01 @needs:ca-keys @needs:broker-log
  Scenario: A client with a certificate from a foreign CA is refused by the broker
    When a client connects to the broker with a certificate issued by a foreign CA
    Then the broker refuses the connection because of "an untrusted issuer"
    And the client is told "unknown ca"
