@application @FR-LA-002
Feature: The managing application's own certificates and what it logs
  Seed 000 "Managing Application": the application obtains its certificate like a device (ACME,
  then X5C), renews it, and re-acquires it after it expired; the certificate management service
  installs, updates and removes certificates it uses; and every failed connection is logged with
  its cause: date/time synchronisation, an invalid or expired certificate, an untrusted CA, a
  mismatched host name, or a bad TLS configuration.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  @FR-LA-003 @FR-LA-004 @NFR-SEC-002 @NFR-REL-001 @UC-06 @S000-CA-11 @needs:clock
  Scenario: The application renews its certificate while a device publishes, and misses nothing
    Given the application server is provisioned with an operational certificate valid for 12 seconds
    And a provisioned device connected to the broker
    And the device publishes telemetry every 50 ms at QoS 1
    When the application renews its certificate at two thirds of its lifetime
    Then the application holds a new certificate with a later expiry and the same identity
    And the application received every telemetry message without a gap

  @FR-LA-003 @NFR-REL-001 @S000-APP-03 @needs:clock
  Scenario: The application re-acquires its certificate after it expired
    Given the application server is provisioned with an operational certificate valid for 5 seconds
    And a provisioned device connected to the broker
    When the application is offline until its certificate has expired
    And the application powers up again
    Then the application finds its certificate "expired" and re-acquires one with its bootstrap credential
    And the device's telemetry reaches the application again

  # Seed 000: the application uses its certificates only "when all files (local.crt, local.key,
  # ca.crt) are present and valid" (not expired, labelled client only), and logs why not "in the
  # application log, omitting certificate information". It never offers the refused certificate:
  # it connects only after re-acquiring one with its bootstrap credential.
  @FR-LA-003 @NFR-USE-002 @S000-APP-03 @S000-APP-04 @S000-TST-01 @S000-TST-02
  Scenario Outline: At power-up the application refuses its own certificate when <defect>, logs why and re-acquires one
    Given the application server is provisioned
    When the application's store is damaged: <defect>
    And the application powers up again
    Then the application's log gives the cause as "<reason>: <logged>", without certificate contents
    And the application finds its certificate "<reason>" and re-acquires one with its bootstrap credential
    And the application holds local.crt, local.key and ca.crt, valid, and is connected

    @needs:ca-keys
    Examples: a certificate of the lab's issuing CA for the application, with the wrong label
      | defect                                              | reason    | logged                                                    |
      | its certificate is labelled for servers and clients | wrong-eku | local.crt has extended key usage [serverAuth, clientAuth] |
      | its certificate is labelled for servers only        | wrong-eku | local.crt has extended key usage [serverAuth]             |

    Examples: a file of the three missing
      | defect               | reason        | logged            |
      | local.key is missing | missing-files | missing local.key |
      | ca.crt is missing    | missing-files | missing ca.crt    |

  @FR-LA-004 @S000-APP-10 @S000-APP-12 @S000-APP-15 @S000-CA-09 @S000-CA-15 @S000-TST-05 @S003-REV-01 @S002-REV-01 @S002-ISS-02 @S002-INS-04 @S004-KEY-01
  Scenario: The certificate management service installs, updates and removes a certificate of the application
    Given the application server is provisioned
    And a provisioned device connected to the broker
    When the service engineer certifies a standby application "lumia-standby" with a key the service generates and it installs the certificate
    Then the standby application receives the device's telemetry
    When the service engineer issues the standby application a new certificate and it installs it
    Then the standby application's session moved to the new certificate
    And once the engineer revokes the old one as superseded, the broker refuses it and the standby application stays connected
    When the standby application's certificate is removed and the engineer revokes it
    Then the standby application holds no certificate and the broker refuses the removed one

  @S000-APP-10
  Scenario: The application refuses to install a certificate that is not its own and keeps the one it has
    Given the application server is provisioned
    When the service engineer delivers the application a certificate made for "RVS-NOT-THE-APP"
    Then the application refuses the installation because of "identity-mismatch" and logs it
    And the application still holds its own certificate and its session

  @NFR-USE-002 @NFR-SEC-001 @S000-APP-05 @S000-APP-07 @S000-APP-08 @S002-VAL-01 @S002-VAL-02 @S002-TRB-02 @needs:ca-keys
  Scenario Outline: The application logs a failed connection to a broker that <misconfiguration> as "<cause>"
    Given the application server is provisioned
    When the application connects to a broker that <misconfiguration>
    Then the application's log records the failed connection with cause "<cause>"

    Examples:
      | misconfiguration                                | cause                      |
      | presents an expired certificate                 | broker-certificate-expired |
      | presents a certificate that is not for servers  | broker-certificate-invalid |
      | presents a certificate from a foreign CA        | broker-untrusted           |
      | offers only TLS 1.1                             | tls-configuration          |

  @NFR-USE-002 @S000-APP-06 @S002-TRB-04
  Scenario Outline: The application's clock is <days> days <direction>: the failure is logged as clock skew, not as a bad certificate
    Given the application server is provisioned
    When the application's clock runs <days> days <direction> and it connects to the broker
    Then the application's log records the failed connection with cause "clock-skew"

    Examples:
      | days | direction |
      | 400  | ahead     |
      | 2    | behind    |

  @NFR-USE-002 @S000-APP-07 @S002-VAL-02
  Scenario: The application logs a broker dialled by a name its certificate does not carry
    Given the application server is provisioned
    When the application connects to the lab broker as "broker.example"
    Then the application's log records the failed connection with cause "host-name-mismatch"
