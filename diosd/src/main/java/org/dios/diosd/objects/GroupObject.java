package org.dios.diosd.objects;

import java.util.HashMap;

import org.dios.abi.Abi;


/**
 * A name-visibility domain (D_OBJ_GROUP). Names bound in it resolve only for
 * its members: the task that created it, and tasks spawned into it; a uid's
 * default group ({@link ObjectManager#userGroup}): every task of that uid
 * that connects by itself, and the tasks they spawn. Each
 * member holds one count of it, as each reference does; when the last goes,
 * its names stop resolving (the objects live on while referenced).
 */
public final class GroupObject extends DObject {
    public final HashMap<Name, DObject> names = new HashMap<>();

    GroupObject(long id, long ownerTask) {
        super(id, Abi.D_OBJ_GROUP, ownerTask);
    }

    @Override
    public long size() {
        return names.size();
    }

    /** dios_create of a group: no argument; its creator becomes its first member. */
    static DObject create(CreateRequest req) {
        if (req.hasArg) return req.fail(-Abi.DIOS_EINVAL);
        if (req.refsFull()) return req.fail(-Abi.DIOS_ENOMEM);
        int own = req.task.groups.contains(req.objects().userGroup(req.task.uid)) ? 1 : 0; // its uid's takes no place
        if (req.task.groups.size() - own >= Abi.DIOS_RUN_MAX_GROUPS) {
            return req.fail(req.call.limitHit(Abi.D_DETAIL_MAX_GROUPS, Abi.DIOS_RUN_MAX_GROUPS));
        }
        return new GroupObject(req.objects().newObjectId(), req.task.taskId);
    }

    /** Its creator is its first member. */
    @Override
    public void created(TaskSession creator) {
        if (tryRetain()) creator.groups.add(this);
    }

    @Override
    public java.util.HashMap<Name, DObject> scopedNames() {
        return names;
    }

    @Override
    public GroupObject asGroup() {
        return this;
    }

    @Override
    protected void freeResources(Stats stats) {
        // ObjectManager unbinds the names (it keeps the count of bindings).
    }
}
