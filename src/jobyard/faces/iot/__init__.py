"""AWS IoT Jobs: the data plane under /iot/data and the control plane under /iot/control."""
