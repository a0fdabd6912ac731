@attack @security @FR-MB-001 @NFR-USE-002 @S002-REV-03 @S003-BP-06 @S003-REV-02
Feature: The broker's CRL is left to age past its nextUpdate
  OpenSSL refuses every client certificate once the CRL it checks against is past its
  nextUpdate: a CRL nobody refreshes takes the whole fleet off the broker at its next
  connection, revoked or not (an attacker who can delay the CRL's distribution gets a denial of
  service, never an accepted revoked certificate). The lab's CRL publisher fetches a fresh CRL
  from step-ca well inside its validity and reloads the broker.

  @needs:own-lab @needs:broker-control @needs:broker-log
  Scenario: Past its nextUpdate the CRL refuses every new connection; the publisher keeps the fleet on
    Given a lab of the scenario's own whose CRLs are valid for 10 seconds
    And a device of that lab connected to its broker
    When the lab stops refreshing the broker's CRL and the CRL passes its nextUpdate
    Then a new connection of the device is refused with the alert "certificate expired"
    And that lab's broker logs "certificate verify failed" for the device
    But the device's existing connection was not dropped
    When the lab refreshes the broker's CRL again
    Then a new connection of the device succeeds
    And a new connection of the device still succeeds after the refreshed CRL's own nextUpdate has passed
