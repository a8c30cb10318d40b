package dev.kimilinear.cuda;

import dev.kimilinear.cuda.PipelineModel.DeviceShare;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one memory budget a pipeline reports: whatever slots and pages it admits fit every device. */
class PipelineBudgetTest {

    @Test
    void theTightestDeviceBoundsTheBudgetInWholeModelBytes() {
        // device 0 holds a quarter of each slot and page, device 1 three quarters; both have 100 free
        List<DeviceShare> devices = List.of(new DeviceShare(25, 250, 100), new DeviceShare(75, 750, 100));
        long budget = PipelineModel.freeBytes(devices, 100, 1000);
        assertEquals(133, budget);   // device 1: 100 * 100 / 75
        fitsEveryDevice(devices, 100, 1000, budget);
    }

    @Test
    void slotsAndPagesSplitUnevenlyTakeTheWorseRatio() {
        // device 0 holds every KDA layer, device 1 every MLA layer
        List<DeviceShare> devices = List.of(new DeviceShare(40, 0, 1000), new DeviceShare(0, 10, 50));
        long budget = PipelineModel.freeBytes(devices, 40, 10);
        assertEquals(50, budget);
        fitsEveryDevice(devices, 40, 10, budget);
    }

    @Test
    void oneDeviceIsItsOwnFreeMemoryAndStatelessStagesBoundNothing() {
        assertEquals(700, PipelineModel.freeBytes(List.of(new DeviceShare(10, 20, 700)), 10, 20));
        assertEquals(700, PipelineModel.freeBytes(List.of(new DeviceShare(10, 20, 700), new DeviceShare(0, 0, 5)),
                10, 20));
        assertEquals(0, PipelineModel.freeBytes(List.of(new DeviceShare(10, 20, -3)), 10, 20));
    }

    /** Every split of the budget between slots and pages stays within each device's free bytes. */
    private static void fitsEveryDevice(List<DeviceShare> devices, long slot, long page, long budget) {
        for (long slots = 0; slots * slot <= budget; slots++) {
            long pages = page == 0 ? 0 : (budget - slots * slot) / page;
            for (DeviceShare d : devices) {
                long used = slots * d.slotBytes() + pages * d.pageBytes();
                assertTrue(used <= d.free(), slots + " slots and " + pages + " pages take " + used + " of " + d);
            }
        }
    }
}
