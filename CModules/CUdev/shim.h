// libudev (systemd's device enumeration and monitor library), for Sources/Udev.
#include <libudev.h>
