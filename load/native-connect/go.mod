module ecm-lab/load/native-connect

go 1.25
