package dev.kimilinear.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;

/**
 * The device address a {@link CUdeviceptr} stands for, for choosing between kernels that load
 * 16 bytes at a time and their element-wise forms. JCuda keeps the address as a base and a byte
 * offset (what {@code withByteOffset} adds up) behind protected getters; they are read here.
 */
final class DeviceAddress {
    private static final MethodHandle BASE;
    private static final MethodHandle OFFSET;

    static {
        try {
            Method base = NativePointerObject.class.getDeclaredMethod("getNativePointer");
            Method offset = Pointer.class.getDeclaredMethod("getByteOffset");
            base.setAccessible(true);
            offset.setAccessible(true);
            BASE = MethodHandles.lookup().unreflect(base);
            OFFSET = MethodHandles.lookup().unreflect(offset);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("JCuda's device pointers do not expose their address: " + e);
        }
    }

    private DeviceAddress() {
    }

    static long of(CUdeviceptr p) {
        try {
            return (long) BASE.invokeExact((NativePointerObject) p) + (long) OFFSET.invokeExact((Pointer) p);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the address of " + p, e);
        }
    }

    /** Whether p is a multiple of {@code bytes} (a power of two). */
    static boolean aligned(CUdeviceptr p, int bytes) {
        return (of(p) & (bytes - 1)) == 0;
    }
}
